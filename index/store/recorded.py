"""What an index records about how it was built, and the checks that keep it one index.

Vectors of different embedding models don't compare, and chunks cut two ways don't mix
in one ranking. So the first write records the model and the cut (and, for a new index,
the embedded-text format) in the collection's metadata, and every writer and reader is
checked against them: one configured for another model or cut is refused with a line
saying what to do, before anything is written.
"""

from collections.abc import Callable
from typing import Any

from index.errors import ChunkingMismatchError, ModelMismatchError
from index.ingest.chunking import EMBED_FORMAT, Cut
from index.store.chunks import CUT_KEY, FORMAT_KEY, MODEL_KEY, ChunkStore


def check_cut(store: ChunkStore, cut: Cut, unrecorded: Cut) -> None:
    """Refuse to add chunks cut otherwise than the index's own (never mix two cuts)."""
    cut_with = store.cut(unrecorded)
    if cut_with is not None and cut_with != cut:
        raise ChunkingMismatchError(
            f"the index in {store.location} was cut into chunks of {cut_with.describe()}, "
            f"but the config says {cut.describe()}; leave chunking.max_tokens and "
            "overlap_tokens out of the config to keep the index's own cut, or ingest "
            "into a fresh data_dir to cut every article anew"
        )


def check_model(store: ChunkStore, model: str, vector_size: Callable[[], int]) -> bool:
    """Refuse an index embedded with another model than `model`; whether one is recorded.

    An index that records no model (empty, or built before newsbot recorded it) is
    checked by the length of its vectors against `vector_size()`, what `model` makes.
    """
    built_with = store.embedding_model()
    if built_with is not None:
        if built_with != model:
            raise ModelMismatchError(
                f"the index in {store.location} was embedded with '{built_with}', but the "
                f"config names '{model}'; use the config it was built with, or give this "
                "model its own data_dir (or store.collection) and ingest again"
            )
        return True
    with store.reach():
        sample = store.collection.get(limit=1, include=["embeddings"])["embeddings"]
    stored = len(sample[0]) if sample is not None and len(sample) else None
    if stored is not None and stored != (size := vector_size()):
        raise ModelMismatchError(
            f"the index in {store.location} holds vectors of {stored} dimensions, but "
            f"'{model}' makes {size}; use the model it was built with, or give this "
            "model its own data_dir (or store.collection) and ingest again"
        )
    return False


def record_model(store: ChunkStore, model: str, cut: Cut | None) -> None:
    """Record the model and the cut (and, for a new index, the embedded-text format)."""
    values: dict[str, Any] = {MODEL_KEY: model}
    if cut is not None:
        values[CUT_KEY] = str(cut)
    if store.count() == 0:
        values[FORMAT_KEY] = EMBED_FORMAT
    store.set_metadata("recording the embedding model", **values)
