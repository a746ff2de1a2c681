"""Ingest: load articles, skip the unchanged, chunk, embed in batches and store.

Embedding is the slow part (a 3 MB file is some 3,000 chunks and minutes of CPU), so
it runs on the calling thread in large batches, encoded in steps of `EMBED_STEP`
chunks that are reported as progress, while a writer thread stores the previous batch.
A changed article has all its old chunks deleted before its new ones land; chunk 0,
which marks an article complete, is written last. An article whose text (whitespace
aside) is already in the index, or earlier in the same run, is a duplicate: it is
skipped with a warning.
"""

import itertools
import logging
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from index.articles import Article, derived_id
from index.embedding.models import DocumentEncoder
from index.ingest.chunking import Chunk, Chunker
from index.ingest.loaders import LoadNote, LoadProblem, find_files, load_file
from index.ingest.publishers import publisher_from_url
from index.store.chunks import ChunkStore
from index.store.schema import StoredArticle, chunk_id, chunk_metadata, text_hash

log = logging.getLogger(__name__)
EMBED_STEP = 64  # chunks per call of the encoder, and per progress report


class IngestProgress(Protocol):
    """What a front end is told as ingest proceeds.

    `articles_found(count)` comes when a file has been read (a JSON Lines file of 254
    records: 254), before any of its articles is cut; `article_done()` once per article,
    whether it is written, unchanged or skipped, so progress counts articles, not files.
    `chunks_planned(count)` comes when an article has been cut into `count` chunks, and
    `chunks_embedded(count)` after every step of the encoder, so progress shows within
    a big article.
    """

    def files_found(self, count: int) -> None: ...
    def file_done(self, path: Path) -> None: ...
    def articles_found(self, count: int) -> None: ...
    def article_done(self) -> None: ...
    def chunks_planned(self, count: int) -> None: ...
    def chunks_embedded(self, count: int) -> None: ...
    def chunks_stored(self, count: int) -> None: ...


class _Silent:
    def files_found(self, count: int) -> None: ...
    def file_done(self, path: Path) -> None: ...
    def articles_found(self, count: int) -> None: ...
    def article_done(self) -> None: ...
    def chunks_planned(self, count: int) -> None: ...
    def chunks_embedded(self, count: int) -> None: ...
    def chunks_stored(self, count: int) -> None: ...


@dataclass
class IngestReport:
    """What one ingest run did."""

    new: int = 0
    added: list[str] = field(default_factory=list)  # ids of the new articles, in order
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    seconds: float = 0.0
    problems: list[LoadProblem] = field(default_factory=list)
    notes: list[LoadNote] = field(default_factory=list)
    duplicates: list[LoadProblem] = field(default_factory=list)

    def summary(self) -> str:
        """The one-line summary printed at the end."""
        rate = self.chunks / self.seconds if self.seconds else 0.0
        line = (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged; "
            f"{self.chunks} chunks in {self.seconds:.1f}s ({rate:.0f} chunks/s)"
        )
        if self.duplicates:
            count = len(self.duplicates)
            line += f"; {count} duplicate{'s' * (count != 1)} skipped"
        if self.problems:
            line += f"; {len(self.problems)} problem{'s' * (len(self.problems) != 1)}"
        return line


@dataclass(frozen=True)
class _Item:
    """One chunk on its way to the store, with its article."""

    chunk: Chunk
    article: Article
    chunk_count: int


class Ingestor:
    """Writes articles into the store, skipping those already there unchanged."""

    def __init__(
        self,
        store: ChunkStore,
        encoder: DocumentEncoder,
        chunker: Chunker,
        max_file_bytes: int,
        encode_batch: int = 512,
        progress: IngestProgress | None = None,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.chunker = chunker
        self.max_file_bytes = max_file_bytes
        self.encode_batch = encode_batch
        self.progress = progress or _Silent()
        self.changed = False  # whether anything was written or deleted
        self.started = time.time()  # stored with every chunk: when its article came in

    def ingest(self, paths: Iterable[Path], articles: Iterable[Article] = ()) -> IngestReport:
        """Ingest files and directories, and articles already loaded (e.g. fetched pages).

        Problems are collected, not raised.
        """
        started = time.perf_counter()
        self.started = time.time()
        report = IngestReport()
        files, report.problems = find_files(paths, exclude=[self.store.data_dir])
        self.progress.files_found(len(files))
        stored = self.store.articles()
        plan = _Plan(stored, report, self.progress)
        given = (self._found(_with_publisher(article)) for article in articles)
        loaded = itertools.chain(self._load(files, report), given)
        chunked = (self._chunk(article) for article in plan.changed(loaded))
        # A batch is written while the next one is embedded (torch leaves the GIL), never
        # while the next one is cut: cutting is Python and would fight the writer for it.
        pending: tuple[list[_Item], list[list[float]], list[str]] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="chunk-writer") as writer:
            try:
                for batch, starting in _batches(chunked, self.encode_batch, self.progress):
                    last_write = (
                        writer.submit(self._write, *pending, plan.replaced) if pending else None
                    )
                    pending = None
                    vectors = self._embed([item.chunk.embed_text for item in batch])
                    if last_write:
                        last_write.result()
                    pending = batch, vectors, starting
                    report.chunks += len(batch)
            finally:  # also when interrupted: what was embedded is kept
                if pending:
                    self._write(*pending, plan.replaced)
        report.seconds = time.perf_counter() - started
        return report

    def _load(self, files: list[Path], report: IngestReport) -> Iterator[Article]:
        """Each file's articles, read whole first (its text is in memory anyway), so
        progress knows how many articles are coming before the first is cut."""
        for path in files:
            loaded: list[Article] = []
            for item in load_file(path, self.max_file_bytes):
                if isinstance(item, LoadProblem):
                    report.problems.append(item)
                elif isinstance(item, LoadNote):
                    report.notes.append(item)
                else:
                    loaded.append(item)
            self.progress.articles_found(len(loaded))
            yield from loaded
            self.progress.file_done(path)

    def _found(self, article: Article) -> Article:
        self.progress.articles_found(1)
        return article

    def _chunk(self, article: Article) -> tuple[Article, list[Chunk]]:
        chunks = self.chunker.chunk(article)
        self.progress.chunks_planned(len(chunks))
        return article, chunks

    def _embed(self, texts: list[str]) -> list[list[float]]:
        """Embed in steps of `EMBED_STEP`, reporting each, so a big batch shows progress."""
        vectors: list[list[float]] = []
        for first in range(0, len(texts), EMBED_STEP):
            step = texts[first : first + EMBED_STEP]
            vectors.extend(self.encoder.embeddings.embed_documents(step))
            self.progress.chunks_embedded(len(step))
        return vectors

    def _write(
        self,
        batch: list[_Item],
        vectors: list[list[float]],
        starting: list[str],
        replaced: dict[str, list[str]],
    ) -> None:
        """Delete the old versions of articles starting in this batch, then store it."""
        self.changed = True
        stale = [old for article_id in starting for old in replaced.get(article_id, [])]
        if starting:
            self.store.delete_articles(starting + stale)
        self.store.add(
            [chunk_id(i.chunk, i.article.content_hash) for i in batch],
            [i.chunk.text for i in batch],
            vectors,
            [chunk_metadata(i.article, i.chunk, i.chunk_count, self.started) for i in batch],
        )
        self.progress.chunks_stored(len(batch))


class _Plan:
    """Decides, per article, whether it is new, changed or unchanged."""

    def __init__(
        self, stored: dict[str, StoredArticle], report: IngestReport, progress: IngestProgress
    ) -> None:
        self.stored = stored
        self.progress = progress  # told of every article it skips
        self.by_origin = {a.origin: a.id for a in stored.values()}
        self.report = report
        self.seen: dict[str, str] = {}
        self.replaced: dict[str, list[str]] = {}
        self.texts = {a.text_hash: a.id for a in stored.values() if a.text_hash}

    def changed(self, articles: Iterable[Article]) -> Iterator[Article]:
        """Yield the articles that need writing; count the rest."""
        for article in articles:
            article = self._with_unique_id(article)
            if article.id in self.seen:
                self.report.problems.append(
                    LoadProblem(article.origin, f"duplicate article id '{article.id}'; skipped")
                )
                self.progress.article_done()
                continue
            self.seen[article.id] = article.origin
            old = self.stored.get(article.id)
            if old and old.content_hash == article.content_hash:
                self.report.unchanged += 1
                self.progress.article_done()
                continue
            previous_id = self.by_origin.get(article.origin)
            same_text = self.texts.setdefault(text_hash(article.text), article.id)
            if same_text not in (article.id, previous_id):
                self.report.duplicates.append(
                    LoadProblem(article.origin, f"same text as article '{same_text}'")
                )
                self.progress.article_done()
                continue
            if previous_id and previous_id != article.id:
                self.replaced[article.id] = [previous_id]
            if old or previous_id:
                self.report.updated += 1
            else:
                self.report.new += 1
                self.report.added.append(article.id)
            yield article

    def _with_unique_id(self, article: Article) -> Article:
        """A file named like another file elsewhere gets its id suffixed, not merged."""
        if not article.id_from_filename:
            return article
        taken_by = self.seen.get(article.id) or getattr(self.stored.get(article.id), "origin", None)
        if taken_by is None or taken_by == article.origin:
            return article
        return replace(article, id=f"{article.id}-{derived_id(article.origin)[:6]}")


def _with_publisher(article: Article) -> Article:
    """An article with a URL but no publisher gets the one its URL names."""
    if article.source or not article.url:
        return article
    return replace(article, source=publisher_from_url(article.url))


def _batches(
    chunked: Iterator[tuple[Article, list[Chunk]]], size: int, progress: IngestProgress
) -> Iterator[tuple[list[_Item], list[str]]]:
    """Batches of chunks, and the ids of the articles whose first chunk is in each.

    Each article's chunks go out with chunk 0 last, so it is complete only when whole.
    """
    batch: list[_Item] = []
    starting: list[str] = []
    for article, chunks in chunked:
        starting.append(article.id)
        for chunk in chunks[1:] + chunks[:1]:
            batch.append(_Item(chunk, article, len(chunks)))
            if len(batch) >= size:
                yield batch, starting
                batch, starting = [], []
        progress.article_done()
    if batch:
        yield batch, starting
