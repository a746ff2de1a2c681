"""Copy an embedded index into a Chroma server, reusing the stored vectors.

Chunks are copied page by page with their embeddings, documents and metadata, so
nothing is embedded again. Chunk 0 of every article (which marks it complete) goes
last, so an interrupted copy never shows a partial article as whole. Writes are upserts
of the same ids and chunks already on the server are skipped: running it again after
a failure finishes the copy without duplicates. The counts are compared at the end.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from index.errors import NewsbotError
from index.store import ChunkStore

_PAGE = 1000


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


def migrate(
    source: ChunkStore, target: ChunkStore, on_page: Callable[[int], None] | None = None
) -> MigrationReport:
    """Copy every chunk of `source` into `target`, then verify the counts and ids."""
    present = set(target.chunk_ids())
    copied = skipped = 0
    for where in ({"chunk_index": {"$ne": 0}}, {"chunk_index": 0}):
        for page in _pages(source, where):
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


def _pages(store: ChunkStore, where: dict[str, Any]) -> Iterator[Any]:
    offset = 0
    while True:
        with store.reach():
            page = store.collection.get(
                where=where,
                include=["documents", "metadatas", "embeddings"],
                limit=_PAGE,
                offset=offset,
            )
        if page["ids"]:
            yield page
        if len(page["ids"]) < _PAGE:
            return
        offset += _PAGE
