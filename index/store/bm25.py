"""The lexical (BM25) index beside Chroma.

It is derived data: built from the chunks in Chroma (each chunk's title line and text,
as they are embedded; dates stay metadata, used to filter) and cached on local disk:
`<data_dir>/lexical/` for the embedded store, `<data_dir>/lexical-cache/<server>/` for a
Chroma server. Chroma is the only source of truth, so every process and host sees the
same data; no BM25 files are shared between hosts.

The cache is stamped with the collection's generation marker, which every ingest and
removal changes (an index from before markers existed falls back to a digest of the
chunk ids). Whoever opens a stale or missing cache rebuilds it. Ingest and remove
rebuild it right after writing; a long-running reader (the bot) notices another
process's writes through `index.search.live`, which re-reads the marker at most every
`store.refresh_s` seconds. Building takes about 2 s per 20,000 chunks.
"""

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from index.store.chunks import ChunkStore
from index.terms import terms

log = logging.getLogger(__name__)

_STATE = "chunks.json"


def ids_digest(ids: list[str]) -> str:
    """A digest of a sorted list of chunk ids."""
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()


class LexicalIndex:
    """BM25 over every chunk, with each chunk's id and day for filtering."""

    def __init__(self, bm25: Any, ids: list[str], days: np.ndarray, digest: str) -> None:
        self.bm25 = bm25
        self.ids = ids
        self.days = days
        self.digest = digest

    @classmethod
    def build(cls, store: ChunkStore, stamp: str | None = None) -> "LexicalIndex":
        """Index every chunk in the store; stamped with `stamp` or the ids' digest."""
        import bm25s

        ids: list[str] = []
        tokens: list[list[str]] = []
        days: list[int] = []
        for chunk_id, text, meta in store.all_chunks():
            ids.append(chunk_id)
            tokens.append(terms(f"{meta.get('title', '')}\n{text}") or [""])
            days.append(int(meta.get("day", 0)))
        order = np.argsort(ids)
        ids = [ids[i] for i in order]
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if ids:
            bm25.index([tokens[i] for i in order], show_progress=False)
        days_array = np.array([days[i] for i in order], dtype=np.int64)
        return cls(bm25, ids, days_array, stamp or ids_digest(ids))

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex | None":
        """A saved index, or None if there is none or it is unreadable."""
        import bm25s

        try:
            state = json.loads((directory / _STATE).read_text())
            bm25 = bm25s.BM25.load(str(directory)) if state["ids"] else bm25s.BM25()
        except (OSError, ValueError, KeyError) as exc:
            log.info("no usable lexical index in %s (%s)", directory, exc)
            return None
        return cls(bm25, state["ids"], np.array(state["days"], dtype=np.int64), state["digest"])

    def save(self, directory: Path) -> None:
        """Write the index, replacing any previous one in one rename."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".lexical-", dir=directory.parent))
        if self.ids:
            self.bm25.save(str(staging))
        state = {"digest": self.digest, "ids": self.ids, "days": self.days.tolist()}
        (staging / _STATE).write_text(json.dumps(state))
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            os.replace(directory, old)
        os.replace(staging, directory)
        shutil.rmtree(old, ignore_errors=True)

    def search(
        self, query: str, n: int, since: int | None = None, until: int | None = None
    ) -> list[tuple[str, float]]:
        """The best `n` chunk ids for a query, with BM25 scores, within the day range."""
        query_terms = [t for t in terms(query) if t in self.bm25.vocab_dict] if self.ids else []
        if not query_terms:
            return []
        scores = self.bm25.get_scores(query_terms)
        if since is not None:
            scores = np.where(self.days >= since, scores, 0.0)
        if until is not None:
            scores = np.where((self.days > 0) & (self.days <= until), scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def lexical_dir(store: ChunkStore) -> Path:
    """Where a store's lexical index is cached."""
    if store.embedded:
        return store.data_dir / "lexical"
    s = store.settings
    where = f"{s.host}_{s.port}_{s.tenant}_{s.database}_{s.collection}"
    return store.data_dir / "lexical-cache" / re.sub(r"[^A-Za-z0-9._-]", "_", where)


def stamp(store: ChunkStore) -> str:
    """What identifies the store's current data: its generation marker, else an ids digest."""
    return store.generation() or ids_digest(store.chunk_ids())


def sync_lexical(store: ChunkStore) -> LexicalIndex:
    """Mark the store changed, then rebuild and save the lexical index."""
    marker = store.bump_generation()
    index = LexicalIndex.build(store, marker)
    _save(index, store)
    return index


def open_lexical(store: ChunkStore, current: str | None = None) -> LexicalIndex:
    """The cached lexical index if it matches the store, else a fresh one (saved if possible)."""
    current = current or stamp(store)
    saved = LexicalIndex.load(lexical_dir(store))
    if saved is not None and saved.digest == current:
        return saved
    log.info("lexical index missing or stale; rebuilding from %s", store.location)
    index = LexicalIndex.build(store, current)
    _save(index, store)
    return index


def _save(index: LexicalIndex, store: ChunkStore) -> None:
    try:
        index.save(lexical_dir(store))
    except OSError as exc:
        log.warning("can't save the lexical index (%s); it lives in memory only", exc)
