"""The index as a long-running reader sees it: one consistent snapshot, swapped whole.

A snapshot is a Chroma client, the LangChain vector store over its collection and the
BM25 index built from the same chunks. The bot keeps one open for hours while cron
jobs and other processes ingest. An embedded Chroma client caches its vector segments,
so after another process writes, an old client neither finds the new chunks nor can
fetch their embeddings ("Error finding id"); BM25 read afresh would name exactly those
chunks. So when the store's generation marker changes, a new client, vector store and
BM25 are built together and replace the old snapshot in one assignment.

Questions never wait for that: `current()` returns the snapshot in hand at once and, at
most every `store.refresh_s` seconds, starts a check in a background thread, which reads
the marker (one small request) and, if it changed, builds the new snapshot (a Chroma
round trip and possibly a full BM25 rebuild, seconds on a large index) while questions
keep reading the old one. One rebuild runs at a time. `refresh(force=True)` is for the
process's own ingests: it waits for any rebuild in progress, then rebuilds itself, so
that what it just wrote is answerable when it returns.

A replaced snapshot's client is stopped (freeing its copy of the vectors) once it has
been retired for `RETIRE_AFTER_S` and no ingest holds the write lock: a writer that
started before the swap may still be using the same client system.
"""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from index.errors import NewsbotError, StoreUnavailableError
from index.store.bm25 import LexicalIndex, open_lexical, stamp
from index.store.chunks import ChunkStore
from index.store.locking import write_lock

log = logging.getLogger(__name__)

RETIRE_AFTER_S = 60.0  # far longer than any question takes


@dataclass(frozen=True)
class Snapshot:
    """One consistent view of the index."""

    store: ChunkStore
    vectors: Any  # langchain_chroma.Chroma over store's collection
    lexical: LexicalIndex | None
    generation: str


class LiveIndex:
    """The current snapshot of a store, rebuilt in the background when another process
    changes the store."""

    def __init__(
        self,
        store: ChunkStore,
        embeddings: Embeddings,
        refresh_s: float,
        with_lexical: bool = True,
    ) -> None:
        self.embeddings = embeddings
        self.refresh_s = refresh_s
        self.with_lexical = with_lexical
        self._rebuilding = threading.Lock()  # held by the one rebuild in progress
        self._retired: list[tuple[float, ChunkStore]] = []  # changed only under it
        self.snapshot = self._build(store, stamp(store))
        self._checked = time.monotonic()

    def current(self) -> Snapshot:
        """The snapshot to answer from, at once; a check for changes starts behind it
        when one is due and none runs."""
        now = time.monotonic()
        if now - self._checked >= self.refresh_s and self._rebuilding.acquire(blocking=False):
            self._checked = now
            threading.Thread(target=self._check_then_release, name="index-refresh").start()
        return self.snapshot

    def refresh(self, force: bool = False) -> bool:
        """Rebuild the snapshot now, in this thread, if the store changed since it was
        built; whether it did. Unless forced, only when a check is due and none runs."""
        if force:
            self._rebuilding.acquire()
        elif time.monotonic() - self._checked < self.refresh_s or not self._rebuilding.acquire(
            blocking=False
        ):
            return False
        try:
            return self._check()
        finally:
            self._rebuilding.release()

    def _check_then_release(self) -> None:
        try:
            self._check()
        except Exception:  # a thread of its own: nobody else would see it
            log.exception("rebuilding the index snapshot failed; keeping the old one")
        finally:
            self._rebuilding.release()

    def _check(self) -> bool:
        """Swap in a new snapshot if the store's marker changed (rebuild lock held)."""
        now = time.monotonic()
        self._checked = now
        self._close_retired(now)
        old = self.snapshot
        try:
            current = stamp(old.store)
            if current == old.generation:
                return False
            log.info("the store changed (generation %s); reopening the index", current)
            self.snapshot = self._build(old.store.reopened(), current)
        except StoreUnavailableError as exc:
            log.warning("can't check the store for changes: %s", exc)
            return False
        if self.snapshot.store is not old.store:
            self._retired.append((time.monotonic(), old.store))
        return True

    def _close_retired(self, now: float) -> None:
        """Stop the clients of snapshots retired long enough ago, unless an ingest runs."""
        due = [store for when, store in self._retired if now - when >= RETIRE_AFTER_S]
        if not due:
            return
        try:
            with write_lock(due[0].data_dir):
                for store in due:
                    store.close()
        except NewsbotError as exc:  # an ingest is running (or the lock can't be taken)
            log.debug("retired index clients kept for now: %s", exc)
            return
        self._retired = [(w, s) for w, s in self._retired if s not in due]

    def _build(self, store: ChunkStore, generation: str) -> Snapshot:
        lexical = open_lexical(store, generation) if self.with_lexical else None
        return Snapshot(store, store.vectorstore(self.embeddings), lexical, generation)
