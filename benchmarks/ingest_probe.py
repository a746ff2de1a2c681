"""`ingest.py --probe`: where newsbot's ingest time could go, measured on its encoder.

Measurement only: nothing in newsbot changes. Every probe calls the SentenceTransformer
that `load_document_encoder` loads, on chunks that newsbot's own `Chunker` cuts from
the first `--probe-articles` articles, in this process.

1. Chunk length, order and batch size: the same articles cut at 128 and at 256 tokens
   (overlap 24 and 48, the same share of a chunk), encoded either in the Ingestor's
   order (chunks as cut, one forward pass per call, so sentence-transformers' own
   length sort has nothing to sort) or sorted by length within each ingest batch
   (`ingest.batch_chunks`), in forward passes of 16, 32 and 64. tokens/s counts real
   tokens, special tokens included; "padding" is the share of positions that are pads.
2. Writer contention: the 256-token chunks encoded as the Ingestor encodes them (passes
   of 64 in its order), alone, and while a thread runs the Ingestor's own `_write`
   (delete, then upsert with metadata) for the same chunks into a fresh store, as the
   writer thread does one batch behind; and the writing alone.
3. Threads: probe 2 with `torch.set_num_threads(1)` and with 2; and the encode alone with
   `TOKENIZERS_PARALLELISM` unset (the libraries' default, the tutorial's) instead of
   newsbot's `false`.

Each measurement runs `--probe-repeat` times, round robin, and the fastest is kept.
"""

import argparse
import contextlib
import dataclasses
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_SPECIAL_TOKENS = 2
_WIDTH = 12


class Corpus:
    """Chunks of the probe articles at one size: texts, token counts, writer items."""

    def __init__(self, articles: list[Any], counting: Any, size: int, overlap: int) -> None:
        from index.ingest.batches import _Item
        from index.ingest.chunking import Chunker

        chunker = Chunker(counting, size, overlap)
        self.items = [  # in the Ingestor's order: an article's chunk 0 goes last
            _Item(chunk, article, len(chunks))
            for article in articles
            for chunks in [chunker.chunk(article)]
            for chunk in chunks[1:] + chunks[:1]
        ]
        self.texts = [item.chunk.embed_text for item in self.items]
        encodings = counting.encode_batch(self.texts, add_special_tokens=False)
        self.tokens = [len(e.ids) + _SPECIAL_TOKENS for e in encodings]


def probe(args: argparse.Namespace, scratch: Path, path: Path) -> list[tuple[str, str]]:
    """Run the three probes on the articles in `path`; the table rows."""
    import torch
    from tokenizers import Tokenizer

    from bot.config import load_settings
    from index.articles import Article
    from index.embedding.models import load_document_encoder
    from index.ingest.chunking import cut_to_use
    from index.ingest.loaders import load_file

    settings = load_settings(args.config, data_dir=scratch / "probe-data")
    encoder = load_document_encoder(settings.embedding)
    model = encoder.embeddings._client  # type: ignore[attr-defined]  # no public accessor
    counting = Tokenizer.from_str(encoder.tokenizer.to_str())
    max_bytes = int(settings.ingest.max_file_mb * 1_000_000)
    articles = [a for a in load_file(path, max_bytes) if isinstance(a, Article)]
    overlap = cut_to_use(settings.chunking, None, encoder.window).overlap_tokens
    cuts = {size: Corpus(articles, counting, size, overlap * size // 256) for size in (128, 256)}
    group = settings.ingest.batch_chunks
    first = _encode(model, cuts[256].texts[:64], 64)  # the model's first call after loading
    warm = _encode(model, cuts[256].texts[:64], 64)
    default_threads = torch.get_num_threads()

    grid = [
        (size, order, batch)
        for size in cuts
        for order in ("as cut", "sorted")
        for batch in (16, 32, 64)
    ]
    writer = _Writer(settings, encoder, cuts[256], scratch)
    vectors = model.encode(cuts[256].texts, batch_size=64, normalize_embeddings=True).tolist()
    best: dict[Any, float] = {}
    shared: dict[int, tuple[float, float]] = {}  # threads: the fastest encode with the writer
    as_cut = cuts[256].texts
    for round_ in range(max(args.probe_repeat, 1)):
        for size, order, batch in grid[:: -1 if round_ % 2 else 1]:  # drift cancels out
            texts = _ordered(cuts[size], order == "sorted", group)[0]
            _keep(best, (size, order, batch), _encode(model, texts, batch))
        _keep(best, "write alone", writer.write(vectors))
        for threads in (1, 2):
            torch.set_num_threads(threads)
            _keep(best, ("alone", threads), _encode(model, as_cut, 64))
            pair = writer.concurrently(vectors, lambda: _encode(model, as_cut, 64))
            shared[threads] = min(pair, shared.get(threads, (float("inf"), 0.0)))
        with _tokenizers_parallel():
            _keep(best, ("alone", "2, tokenizers parallel"), _encode(model, as_cut, 64))
    torch.set_num_threads(default_threads)

    rows = [
        (
            "probe corpus",
            f"first {len(articles)} articles: {len(cuts[256].texts)} chunks at 256 tokens "
            f"(overlap {overlap}), {len(cuts[128].texts)} at 128 (overlap {overlap // 2})",
        ),
        (
            "torch threads",
            f"{default_threads} by default (interop {torch.get_num_interop_threads()})",
        ),
        ("passes", f"{args.probe_repeat}, round robin; fastest kept"),
        (
            "first call after load",
            f"{first:.1f} s for {min(64, len(cuts[256].texts))} chunks, then {warm:.1f} s again",
        ),
    ]
    rows += _grid_rows(cuts, grid, best, group)
    rows += _writer_rows(best, shared, cuts[256])
    return rows


@contextlib.contextmanager
def _tokenizers_parallel() -> Iterator[None]:
    """TOKENIZERS_PARALLELISM unset, as in a script that is not newsbot (read per call)."""
    saved = os.environ.pop("TOKENIZERS_PARALLELISM", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["TOKENIZERS_PARALLELISM"] = saved


def _keep(best: dict[Any, float], key: Any, seconds: float) -> None:
    best[key] = min(seconds, best.get(key, float("inf")))


def _encode(model: Any, texts: list[str], batch: int) -> float:
    """Seconds to encode `texts` in calls of `batch`, one forward pass per call."""
    started = time.perf_counter()
    for first in range(0, len(texts), batch):
        model.encode(texts[first : first + batch], batch_size=batch, normalize_embeddings=True)
    return time.perf_counter() - started


def _ordered(corpus: Corpus, by_length: bool, group: int) -> tuple[list[str], list[int]]:
    """Texts and tokens as cut, or sorted longest first within each group of `group`."""
    order = list(range(len(corpus.texts)))
    if by_length:
        order = [
            i
            for first in range(0, len(order), group)
            for i in sorted(order[first : first + group], key=lambda i: -corpus.tokens[i])
        ]
    return [corpus.texts[i] for i in order], [corpus.tokens[i] for i in order]


def _padding(tokens: list[int], batch: int, window: int) -> float:
    """Share of the positions in forward passes of `batch` that are pads."""
    cut = [min(t, window) for t in tokens]
    positions = sum(
        len(cut[i : i + batch]) * max(cut[i : i + batch]) for i in range(0, len(cut), batch)
    )
    return 1 - sum(cut) / positions


class _Writer:
    """The Ingestor's writer step (`Ingestor._write`) for a corpus, into fresh stores."""

    def __init__(self, settings: Any, encoder: Any, corpus: Corpus, scratch: Path) -> None:
        self.settings, self.encoder, self.corpus, self.scratch = settings, encoder, corpus, scratch
        self.stores = 0

    def _ingestor(self) -> Any:
        from index.ingest.batches import Ingestor
        from index.ingest.chunking import Chunker
        from index.store.chunks import ChunkStore

        self.stores += 1
        store = ChunkStore(self.scratch / f"probe-store-{self.stores}", backend=self.settings.store)
        store.count()  # open the collection before the clock starts
        chunker = Chunker(self.encoder.tokenizer, 256, 48)  # unused: _write takes chunks
        return Ingestor(store, self.encoder, chunker, max_file_bytes=1)

    def _copy(self, n: int) -> list[Any]:
        """The corpus's items as new articles (ids suffixed), so every write adds."""
        if n == 0:
            return self.corpus.items
        articles: dict[str, Any] = {}
        items = []
        for item in self.corpus.items:
            article = articles.setdefault(
                item.article.id, dataclasses.replace(item.article, id=f"{item.article.id}-{n}")
            )
            chunk = dataclasses.replace(item.chunk, article_id=article.id)
            items.append(dataclasses.replace(item, chunk=chunk, article=article))
        return items

    def _run(self, ingestor: Any, items: list[Any], vectors: list[list[float]]) -> float:
        started = time.perf_counter()
        step = self.settings.ingest.batch_chunks
        for first in range(0, len(items), step):
            batch = items[first : first + step]
            starting = sorted({item.article.id for item in batch})
            ingestor._write(batch, vectors[first : first + step], starting, {})
        return time.perf_counter() - started

    def write(self, vectors: list[list[float]]) -> float:
        """Seconds the writer needs for the corpus, alone, into a fresh store."""
        return self._run(self._ingestor(), self.corpus.items, vectors)

    def concurrently(
        self, vectors: list[list[float]], encode: Callable[[], float]
    ) -> tuple[float, float]:
        """Seconds of `encode` while the writer writes copies of the corpus without a
        pause, and the writer's seconds inside that time."""
        ingestor, stop = self._ingestor(), threading.Event()
        spans: list[tuple[float, float]] = []

        def keep_writing() -> None:
            for n in itertools.count():
                items = self._copy(n)
                if stop.is_set():
                    return
                started = time.perf_counter()
                self._run(ingestor, items, vectors)
                spans.append((started, time.perf_counter()))

        thread = threading.Thread(target=keep_writing)
        thread.start()
        started = time.perf_counter()
        encoded = encode()
        ended = time.perf_counter()
        stop.set()
        thread.join()
        overlap = sum(max(0.0, min(b, ended) - max(a, started)) for a, b in spans)
        return encoded, overlap


def _cells(*cells: str) -> str:
    return "".join(f"{c:>{_WIDTH}}" for c in cells)


def _grid_rows(
    cuts: dict[int, Corpus], grid: list[Any], best: dict[Any, float], group: int
) -> list[tuple[str, str]]:
    # what the Ingestor did before embedding.batch_size went to 16: one pass per call of 64
    reference = (256, "as cut", 64)
    ref_rate = sum(cuts[256].tokens) / best[reference]
    rows = [
        ("1. chunk size, order, batch", "256, as cut, 64 (= 1.00): the Ingestor before #15"),
        ("", _cells("chunks", "tokens", "s", "chunks/s", "tokens/s", "padding", "vs 64")),
    ]
    for size, order, batch in grid:
        corpus = cuts[size]
        tokens = _ordered(corpus, order == "sorted", group)[1]
        seconds = best[(size, order, batch)]
        rate = sum(corpus.tokens) / seconds
        rows.append(
            (
                f"  {size} tokens, {order}, {batch}",
                _cells(
                    f"{len(tokens)}",
                    f"{sum(tokens)}",
                    f"{seconds:.1f}",
                    f"{len(tokens) / seconds:.1f}",
                    f"{rate:.0f}",
                    f"{_padding(tokens, batch, 256):.1%}",
                    f"{rate / ref_rate:.2f}",
                ),
            )
        )
    return rows


def _writer_rows(
    best: dict[Any, float], shared: dict[int, tuple[float, float]], corpus: Corpus
) -> list[tuple[str, str]]:
    n = len(corpus.texts)
    write = best["write alone"]
    rows = [
        (
            "2.+3. writer and threads",
            f"{n} chunks at 256 in passes of 64, as cut; the writer stores them in "
            f"{write:.2f} s alone; below it writes without a pause while they are encoded",
        ),
        (
            "",
            _cells("encode s", "chunks/s", "+ writer s", "writer s", "lost s", "lost/writer"),
        ),
    ]
    lost_per_writer = {}
    for threads in (1, 2):
        alone = best[("alone", threads)]
        encoded, written = shared[threads]
        lost_per_writer[threads] = (encoded - alone) / written if written else 0.0
        rows.append(
            (
                f"  torch threads {threads}",
                _cells(
                    f"{alone:.1f}",
                    f"{n / alone:.1f}",
                    f"{encoded:.1f}",
                    f"{written:.1f}",
                    f"{encoded - alone:+.1f}",
                    f"{lost_per_writer[threads]:.2f}",
                ),
            )
        )
    two = best[("alone", 2)]
    rows += [
        (
            "  writer / encode, alone",
            f"{write / two:.1%} (seconds to store the chunks over seconds to encode them)",
        ),
        (
            "  projected loss in ingest",
            f"{lost_per_writer[2] * write / two:.1%} of encode time at 2 threads "
            "(lost/writer x writer/encode)",
        ),
        ("  1 thread instead of 2", f"encode alone {best[('alone', 1)] / two:.2f}x as long"),
        (
            "  tokenizers parallel",
            f"encode alone {best[('alone', '2, tokenizers parallel')] / two:.2f}x as long with "
            "TOKENIZERS_PARALLELISM unset (the tutorial's default; newsbot sets false)",
        ),
    ]
    return rows
