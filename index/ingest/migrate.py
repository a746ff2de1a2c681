"""Copy an embedded index into a Chroma server, reusing the stored vectors.

Chunks are copied page by page with their embeddings, documents and metadata, so
nothing is embedded again. Chunk 0 of every article (which marks it complete) goes
last, so an interrupted copy never shows a partial article as whole. Writes are upserts
of the same ids and chunks already on the server are skipped: running it again after
a failure finishes the copy without duplicates. The counts are compared at the end.
"""

from collections.abc import Callable
from dataclasses import dataclass

from index.errors import NewsbotError
from index.settings import IndexConfig, StoreSettings
from index.store import recorded
from index.store.chunks import ChunkStore, open_existing
from index.store.locking import ingest_lock


class MigrationError(NewsbotError):
    """The copy finished but the server doesn't hold what the embedded index holds."""


@dataclass(frozen=True)
class MigrationReport:
    """What a migration copied and found."""

    source_chunks: int
    copied: int
    already_there: int
    target_chunks: int

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"copied {self.copied} chunks ({self.already_there} were already there); "
            f"the server holds {self.target_chunks} of {self.source_chunks}"
        )


def migrate_to_server(config: IndexConfig, server: StoreSettings) -> MigrationReport:
    """Copy the embedded index of `config.data_dir` into the Chroma server `server`.

    The server's collection records the same model (refused if it holds another's
    vectors), and its BM25 index is built once the copy is verified.
    """
    from index.store.bm25 import sync_lexical

    with ingest_lock(config, server):
        embedded = config.store.model_copy(update={"backend": "embedded"})
        source = open_existing(config.data_dir, embedded)
        target = ChunkStore(config.data_dir, backend=server)
        model = source.embedding_model() or config.embedding.model
        if not recorded.check_model(target, model, lambda: _vector_size(source)):
            recorded.record_model(target, model, source.cut())
        report = migrate(source, target)
        sync_lexical(target)
    return report


def _vector_size(store: ChunkStore) -> int:
    """The length of the store's vectors (0 when it is empty)."""
    page = next(store.pages(include=["embeddings"]), None)
    return len(page["embeddings"][0]) if page is not None else 0


def migrate(
    source: ChunkStore, target: ChunkStore, on_page: Callable[[int], None] | None = None
) -> MigrationReport:
    """Copy every chunk of `source` into `target`, then verify the counts and ids."""
    present = set(target.chunk_ids())
    copied = skipped = 0
    for where in ({"chunk_index": {"$ne": 0}}, {"chunk_index": 0}):
        for page in source.pages(["documents", "metadatas", "embeddings"], where):
            keep = [i for i, chunk in enumerate(page["ids"]) if chunk not in present]
            skipped += len(page["ids"]) - len(keep)
            if keep:
                target.add(
                    [page["ids"][i] for i in keep],
                    [page["documents"][i] for i in keep],
                    [page["embeddings"][i] for i in keep],
                    [page["metadatas"][i] for i in keep],
                )
                copied += len(keep)
            if on_page:
                on_page(len(page["ids"]))
    source_ids = set(source.chunk_ids())
    target_ids = set(target.chunk_ids())
    report = MigrationReport(len(source_ids), copied, skipped, len(target_ids))
    missing = source_ids - target_ids
    if missing:
        raise MigrationError(
            f"{len(missing)} chunks did not reach {target.location}; run migrate again"
        )
    extra = len(target_ids - source_ids)
    if extra:
        raise MigrationError(
            f"{target.location} holds {extra} chunks the embedded index doesn't; use a "
            "fresh store.collection, or remove them, then run migrate again"
        )
    return report
