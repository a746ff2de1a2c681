"""Ingest benchmark: the configured pipeline end to end, against raw embedding in the same run.

Builds the same objects `newsbot ingest` builds (`index.ingest.pipeline.ingest_paths`: write lock,
store, document encoder, chunker, `Ingestor`, then the BM25 resync), ingests the
RealTime QA article corpus, then embeds a seeded
random sample of the very chunks it stored with `encoder.embeddings.embed_documents`
alone (same wrapper and batch size, one ingest batch per call). The ratio of the two rates is
the figure to watch: the machine is shared, so absolute rates are noisy.

It also checks what was stored: the largest embedded chunk in model tokens (counted on
a private copy of the tokenizer, with the two special tokens), blank chunks, and
article text that no chunk covers. Timers around the store, chunker and embedder
give a breakdown of where the end-to-end time went.

With `--compare` it measures instead, on the first `--limit` articles (default 300),
each in a fresh process of its own: the LangChain tutorial's indexing
(`ingest_tutorial.py`), `newsbot ingest` as the console script, and this in-process
run (its breakdown and raw baseline); `ingest_compare.py` prints the ratios. `--probe`
adds encoder measurements that answer where ingest's time could go (`ingest_probe.py`).

    python benchmarks/ingest.py --data-dir /work/bench-data/articles --fresh
    python benchmarks/ingest.py --limit 100            # a quick run in a temp dir
    python benchmarks/ingest.py --compare --repeat 2   # tutorial vs newsbot, 300 articles
    python benchmarks/ingest.py --probe                # encoder probes, 40 articles
"""

import argparse
import dataclasses
import functools
import itertools
import json
import os
import random
import re
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from report import print_table

REPO = Path(__file__).resolve().parent.parent
ARTICLES = REPO.parent / "shared" / "eval" / "realtimeqa-2023-articles" / "articles.jsonl"
_SPECIAL_TOKENS = 2
_GOAL_RATIO = 0.95  # issue #15: end to end at least 0.95 of raw encoding


class Timings:
    """Seconds and calls per name, added to from any thread."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn`, timed under `name`."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[name] += time.perf_counter() - started
                    self.calls[name] += 1

        return timed


class TimedEmbeddings:
    """The slice of the embeddings the `Ingestor` calls, timed (wall, and process CPU)."""

    def __init__(self, embeddings: Any, timings: Timings) -> None:
        self.wall = timings.wrap("embed_documents", embeddings.embed_documents)
        self.cpu_s = 0.0  # the whole process's CPU while embedding: the writer's too

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed, timed."""
        started = time.process_time()
        try:
            return self.wall(texts)  # type: ignore[no-any-return]
        finally:
            self.cpu_s += time.process_time() - started


@dataclasses.dataclass
class Kept:
    """What the benchmark keeps of each chunked article for its checks."""

    texts: list[str] = dataclasses.field(default_factory=list)
    spans: list[list[tuple[int, int]]] = dataclasses.field(default_factory=list)
    embed_texts: list[str] = dataclasses.field(default_factory=list)

    def approx_mb(self) -> float:
        """Rough size of the kept strings."""
        chars = sum(map(len, self.texts)) + sum(map(len, self.embed_texts))
        return chars / 1e6


def main() -> None:
    """Run the benchmark and print its table."""
    args = _parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="newsbot-bench-ingest-"))
    try:
        if args.compare:
            from ingest_compare import compare

            # the children get the caller's environment, not newsbot's
            compare(args, scratch, _limited(args.articles, args.limit, scratch))
        for key, value in _cli_environment().items():
            os.environ.setdefault(key, value)
        if args.probe:
            from ingest_probe import probe

            path = _limited(args.articles, args.probe_articles, scratch)
            print_table("ingest probes", probe(args, scratch, path))
        if not (args.compare or args.probe):
            rows, figures = run(args, scratch)
            print_table("ingest benchmark", rows)
            if args.json:
                args.json.write_text(json.dumps(figures), encoding="utf-8")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclasses.dataclass
class Pipeline:
    """The objects `newsbot ingest` builds, wrapped with timers."""

    ingestor: Any
    encoder: Any
    counting: Any  # a private tokenizer copy, never padded or truncated
    max_tokens: int
    timed: TimedEmbeddings


def build(settings: Any, args: argparse.Namespace, timings: Timings, kept: Kept) -> Pipeline:
    """Store, encoder, chunker and Ingestor as the CLI builds them, plus timers."""
    from tokenizers import Tokenizer

    from index.embedding.models import load_document_encoder
    from index.ingest.batches import Ingestor
    from index.ingest.chunking import Chunker, cut_to_use
    from index.store import recorded
    from index.store.chunks import ChunkStore

    store = ChunkStore(settings.data_dir, backend=settings.store)
    encoder = load_document_encoder(settings.embedding)
    counting = Tokenizer.from_str(encoder.tokenizer.to_str())
    counting.no_truncation()
    counting.no_padding()
    cut = cut_to_use(settings.chunking, None, encoder.window)  # as for a new index
    max_tokens = cut.max_tokens
    recorded.record_model(store, settings.embedding.model, cut)  # as `newsbot ingest` does
    chunker = Chunker(encoder.tokenizer, max_tokens, cut.overlap_tokens)
    chunk = timings.wrap("chunk", chunker.chunk)

    def chunk_and_keep(article: Any) -> Any:
        chunks = chunk(article)
        kept.texts.append(article.text)
        kept.spans.append([(c.start, c.end) for c in chunks])
        kept.embed_texts.extend(c.embed_text for c in chunks)
        return chunks

    chunker.chunk = chunk_and_keep  # type: ignore[method-assign]
    for name in ("articles", "add", "delete_articles"):
        setattr(store, name, timings.wrap(f"store.{name}", getattr(store, name)))
    timed = TimedEmbeddings(encoder.embeddings, timings)
    ingestor = Ingestor(
        store,
        dataclasses.replace(encoder, embeddings=timed),  # type: ignore[arg-type]
        chunker,
        max_file_bytes=int(settings.ingest.max_file_mb * 1_000_000),
        encode_batch=settings.ingest.batch_chunks,
    )
    ingestor._write = timings.wrap("writer thread, all", ingestor._write)  # type: ignore[method-assign]
    return Pipeline(ingestor, encoder, counting, max_tokens, timed)


def run(args: argparse.Namespace, scratch: Path) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Raw baseline (first half), ingest, raw baseline (second half), checks.

    Returns the table rows and the figures `--compare` reads (written by `--json`).
    """
    from bot.config import load_settings
    from index.store.bm25 import lexical_dir, sync_lexical
    from index.store.locking import write_lock

    articles_path = _limited(args.articles, args.limit, scratch)
    data_dir = args.data_dir or scratch / "data"
    if args.fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    settings = load_settings(args.config, data_dir=data_dir)
    timings, kept = Timings(), Kept()
    with write_lock(settings.data_dir, settings.ingest.lock_timeout_s):
        started = time.perf_counter()
        p = build(settings, args, timings, kept)
        setup_s = time.perf_counter() - started
        store = p.ingestor.store
        chunks_before = store.count()
        state_before = (p.encoder.tokenizer.truncation, p.encoder.tokenizer.padding)
        baseline = Baseline(p, articles_path, p.ingestor.chunker.overlap_tokens, args)
        baseline.measure(0)

        load_before = os.getloadavg()[0]
        cpu_started = time.process_time()
        started = time.perf_counter()
        try:
            report = p.ingestor.ingest([articles_path])
        finally:
            ingest_s = time.perf_counter() - started
            if p.ingestor.changed or not lexical_dir(store).exists():
                timings.wrap("sync_lexical (BM25)", sync_lexical)(store)
        e2e_s = time.perf_counter() - started
        cpu_ingest = time.process_time() - cpu_started
        load_after = os.getloadavg()[0]
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        state_after = (p.encoder.tokenizer.truncation, p.encoder.tokenizer.padding)
        chunks_after = store.count()
    baseline.measure(1)

    tokens = [
        len(e.ids) + _SPECIAL_TOKENS
        for e in p.counting.encode_batch(kept.embed_texts, add_special_tokens=False)
    ]
    articles = report.new + report.updated + report.unchanged
    seconds = max(e2e_s, 1e-9)
    e2e_rate = report.chunks / seconds
    rows: list[tuple[str, str]] = [
        ("corpus", f"{articles_path}" + (f" (first {args.limit})" if args.limit else "")),
        ("data dir", f"{data_dir} ({chunks_before} chunks before, {chunks_after} after)"),
        (
            "articles",
            f"{report.new} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.problems)} problems",
        ),
        ("setup (store + model load)", f"{setup_s:.1f} s"),
        ("end to end", f"{e2e_s:.1f} s (Ingestor.ingest {ingest_s:.1f} s, then BM25 resync)"),
        ("articles/s end to end", f"{articles / seconds:.2f}"),
        ("chunks", f"{report.chunks}"),
        ("chunks/s end to end", f"{e2e_rate:.1f}"),
    ]
    if report.chunks and baseline.picked:
        rows += baseline.rows(e2e_rate, cpu_ingest / report.chunks, kept.embed_texts)
        rows.append(("  load average", f"{load_before:.1f} before ingest, {load_after:.1f} after"))
    rows += _checks(kept, tokens, p.encoder.window, p.max_tokens)
    if state_after != state_before:
        warning = (
            "embedding turned on truncation/padding in encoder.tokenizer (chunker counts with it)"
        )
        rows.append(("  WARNING", warning))
    rows.append(
        (
            "peak RSS",
            f"{rss_mb:.0f} MB after ingest (includes ~{kept.approx_mb() + baseline.approx_mb():.0f}"
            " MB of text kept for the baseline and checks)",
        )
    )
    rows += _breakdown(timings, seconds, baseline.parse_s)
    figures = {
        "setup_s": setup_s,
        "e2e_s": e2e_s,
        "chunks": report.chunks,
        "tokens": sum(tokens),
        "embed_s": timings.seconds.get("embed_documents", 0.0),
        "embed_cpu_s": p.timed.cpu_s,
        "e2e_cpu_s": cpu_ingest,
        "raw_chunks_per_s": baseline.rate(),
        "raw_tokens_per_s": baseline.tokens_rate(),
        "raw_cpu_per_chunk": sum(baseline.cpu) / max(len(baseline.picked), 1),
        "seconds": dict(timings.seconds),
        "parse_s": baseline.parse_s,
    }
    return rows, figures


class Baseline:
    """Raw `embed_documents` on a seeded random sample of the corpus's chunks.

    The chunks are cut before ingest by a second `Chunker` with the same settings (and a
    private tokenizer copy); half the sample is embedded before the ingest and half
    after, so a change in the machine's load during the run shows and averages out. An
    untimed call first warms the model up, as the ingest that follows finds it.
    """

    def __init__(self, p: Pipeline, path: Path, overlap: int, args: argparse.Namespace) -> None:
        from index.articles import Article
        from index.ingest.chunking import Chunker
        from index.ingest.loaders import load_file

        self.encoder = p.encoder
        self.counting = p.counting
        self.call_size = p.ingestor.encode_batch
        started = time.perf_counter()
        articles = [a for a in load_file(path, p.ingestor.max_file_bytes) if isinstance(a, Article)]
        self.parse_s = time.perf_counter() - started
        chunker = Chunker(p.counting, p.max_tokens, overlap)
        started = time.perf_counter()
        self.texts = [c.embed_text for a in articles for c in chunker.chunk(a)]
        self.chunk_s = time.perf_counter() - started
        n = len(self.texts) if args.raw_sample <= 0 else min(args.raw_sample, len(self.texts))
        self.picked = sorted(random.Random(args.seed).sample(range(len(self.texts)), n))
        self.seed = args.seed
        self.halves = [self.picked[0::2], self.picked[1::2]]
        self.seconds = [0.0, 0.0]
        self.cpu = [0.0, 0.0]

    def measure(self, half: int) -> None:
        """Embed one half of the sample, in calls of one ingest batch (the Ingestor
        splits each batch into calls of `EMBED_STEP`, so its length sort spans less)."""
        sample = [self.texts[i] for i in self.halves[half]]
        if half == 0:  # untimed: the model's first call pays one-off allocations
            self.encoder.embeddings.embed_documents(sample[:16])
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(0, len(sample), self.call_size):
            self.encoder.embeddings.embed_documents(sample[i : i + self.call_size])
        self.seconds[half] = time.perf_counter() - started
        self.cpu[half] = time.process_time() - cpu_started

    def approx_mb(self) -> float:
        """Rough size of the kept chunk texts."""
        return sum(map(len, self.texts)) / 1e6

    def rate(self) -> float:
        """Chunks per second over both halves."""
        return len(self.picked) / sum(self.seconds) if self.picked else 0.0

    @functools.cached_property
    def tokens(self) -> list[int]:
        """Each baseline chunk's length in model tokens, special tokens included."""
        encodings = self.counting.encode_batch(self.texts, add_special_tokens=False)
        return [len(e.ids) + _SPECIAL_TOKENS for e in encodings]

    def tokens_rate(self) -> float:
        """Tokens per second over both halves."""
        tokens = self.tokens
        return sum(tokens[i] for i in self.picked) / sum(self.seconds) if self.picked else 0.0

    def rows(self, e2e_rate: float, e2e_cpu: float, stored: list[str]) -> list[tuple[str, str]]:
        """The baseline's rows and the ratios against it."""
        n = len(self.picked)
        rate = self.rate()
        before, after = (len(h) / s for h, s in zip(self.halves, self.seconds, strict=True))
        cpu = sum(self.cpu) / n
        ratio = e2e_rate / rate
        verdict = "met" if ratio >= _GOAL_RATIO else "NOT met"
        tokens = self.tokens
        mean_sample = statistics.mean(tokens[i] for i in self.picked)
        same = "identical to" if stored == self.texts else "NOT identical to"
        return [
            (
                "raw embed_documents chunks/s",
                f"{rate:.1f} on a seeded random sample of {n}/{len(self.texts)} chunks "
                f"(seed {self.seed}); {before:.1f} before ingest, {after:.1f} after",
            ),
            (
                "  sample vs all, mean tokens",
                f"{mean_sample:.1f} vs {statistics.mean(tokens):.1f} "
                f"(baseline chunks {same} the stored ones)",
            ),
            ("ratio end to end / raw", f"{ratio:.2f} (goal >= {_GOAL_RATIO}: {verdict})"),
            (
                "  CPU s/chunk, e2e vs raw",
                f"{e2e_cpu:.3f} vs {cpu:.3f} (ratio raw/e2e {cpu / e2e_cpu:.2f}; "
                "less sensitive to other load)",
            ),
            ("  cutting the baseline's chunks", f"{self.chunk_s:.1f} s (not in end to end)"),
        ]


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=Path, default=ARTICLES, help="JSON Lines articles")
    parser.add_argument("--data-dir", type=Path, help="index directory (default: a temp dir)")
    parser.add_argument("--fresh", action="store_true", help="delete --data-dir first")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="config file")
    parser.add_argument("--limit", type=int, help="ingest only the first N articles")
    parser.add_argument(
        "--raw-sample",
        type=int,
        default=3000,
        help="chunks in the raw-encode baseline (0: all); default 3000",
    )
    parser.add_argument("--seed", type=int, default=20230106, help="seed for the raw sample")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="tutorial vs newsbot, each a fresh process, on the first --limit articles (300)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="--compare rounds, interleaved; medians"
    )
    parser.add_argument(
        "--whole", action="store_true", help="--compare the whole processes only (no breakdown)"
    )
    parser.add_argument("--probe", action="store_true", help="encoder and writer probes")
    parser.add_argument(
        "--probe-articles", type=int, default=40, help="articles the probes chunk (first N)"
    )
    parser.add_argument(
        "--probe-repeat", type=int, default=2, help="passes over the probes; best of"
    )
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # figures for --compare
    args = parser.parse_args()
    if args.compare and args.limit is None:
        args.limit = 300
    return args


def _cli_environment() -> dict[str, str]:
    """The environment `newsbot` sets before running a command (tokenizer threads etc.)."""
    from bot import main as entry

    return dict(entry.QUIET_LIBRARIES)


def _limited(path: Path, limit: int | None, scratch: Path) -> Path:
    """The corpus, or a temp copy of its first `limit` lines."""
    if not limit:
        return path
    copy = scratch / f"first-{limit}.jsonl"
    with path.open(encoding="utf-8") as src:
        copy.write_text("".join(itertools.islice(src, limit)), encoding="utf-8")
    return copy


def _checks(kept: Kept, tokens: list[int], window: int, max_tokens: int) -> list[tuple[str, str]]:
    """Largest embedded chunk, blank chunks and uncovered article text."""
    if not tokens:
        return []
    over = sum(t > window for t in tokens)
    blank = sum(1 for t in kept.embed_texts if not t.split("\n", 1)[-1].strip())
    uncovered = sum(
        _uncovered(text, spans) for text, spans in zip(kept.texts, kept.spans, strict=True)
    )
    total = sum(len(re.sub(r"\s", "", t)) for t in kept.texts)
    return [
        (
            "max tokens per embedded chunk",
            f"{max(tokens)} (window {window}, chunk limit {max_tokens}; {over} over the window)",
        ),
        ("mean tokens per embedded chunk", f"{statistics.mean(tokens):.1f}"),
        ("chunks with blank text", f"{blank}"),
        ("article text in no chunk", f"{uncovered} of {total} non-space chars"),
    ]


def _uncovered(text: str, spans: list[tuple[int, int]]) -> int:
    """Non-whitespace characters of `text` outside every span."""
    missing, pos = 0, 0
    for start, end in sorted(spans):
        if start > pos:
            missing += len(re.sub(r"\s", "", text[pos:start]))
        pos = max(pos, end)
    return missing + len(re.sub(r"\s", "", text[pos:]))


def _breakdown(timings: Timings, total: float, parse_s: float) -> list[tuple[str, str]]:
    """Where the end-to-end seconds went; the writer thread overlaps the embedding."""
    main_thread = ("store.articles", "chunk", "embed_documents", "sync_lexical (BM25)")
    writer = ("store.delete_articles", "store.add", "writer thread, all")
    rows = [("breakdown", "seconds, calls, share of end to end")]
    for name in (*main_thread, *writer):
        s = timings.seconds.get(name, 0.0)
        where = "main thread" if name in main_thread else "writer, overlaps embedding"
        calls = timings.calls.get(name, 0)
        rows.append((f"  {name}", f"{s:7.1f} s  {calls:5d}  {s / total:6.1%}  ({where})"))
    building = timings.seconds.get(writer[2], 0.0) - sum(
        timings.seconds.get(n, 0.0) for n in writer[:2]
    )
    rows.append(
        ("    of which ids + metadata", f"{building:7.1f} s         {building / total:6.1%}")
    )
    rows.append(
        ("  parse articles (timed apart)", f"{parse_s:7.1f} s         {parse_s / total:6.1%}")
    )
    rest = total - parse_s - sum(timings.seconds.get(n, 0.0) for n in main_thread)
    rows.append(("  rest: waiting on writer etc.", f"{rest:7.1f} s         {rest / total:6.1%}"))
    return rows


if __name__ == "__main__":
    main()
