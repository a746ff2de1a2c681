"""Query benchmark: warm `AnsweringService.ask` latency and the cold start of `newsbot ask`.

Runs over an index built by `benchmarks/ingest.py` (default /work/bench-data/articles).
Warm: the RealTime QA article questions asked one by one through the service, then
again with timers around its parts (question embedding, Chroma search and fetch, BM25,
the answerer, the emptiness check); opening the service is timed by part too.
Cold: `newsbot ask` as a whole process, interleaved in rounds with two floors measured
in the same run, `python -c "import chromadb"` and `newsbot --help`, reported as ratios.
Whether the gold answer string appears in the answer is printed as information only.

    python benchmarks/query.py
    python benchmarks/query.py --data-dir /work/bench-data/articles --questions 50 --cold-runs 3
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from report import print_table

from bot.evaluation.metrics import percentile

REPO = Path(__file__).resolve().parent.parent
QUERIES = REPO.parent / "shared" / "eval" / "realtimeqa-2023-articles" / "queries.jsonl"
DATA_DIR = Path("/work/bench-data/articles")
_FLOOR = "python -c 'import chromadb'"
PARTS = (
    "embed_query",
    "chroma search",
    "bm25 search",
    "chroma get (fetch)",
    "answer",
    "store.count",
)
_GOALS = {"p50": 0.050, "p95": 0.150, "cold": 4.0}


def main() -> None:
    """Run the benchmark and print its table."""
    args = _parse_args()
    from bot import main as entry

    for key, value in entry.QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    queries = [json.loads(line) for line in args.queries.open(encoding="utf-8") if line.strip()]
    measured = queries[: args.questions]
    warmup = queries[args.questions : args.questions + args.warmup] or queries[: args.warmup]
    rows = warm(args, measured, warmup)
    if args.cold_runs:
        rows += cold(args, measured[0]["question"])
    print_table("query benchmark", rows)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="an ingested index")
    parser.add_argument("--queries", type=Path, default=QUERIES, help="questions, JSON Lines")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="config file")
    parser.add_argument("--questions", type=int, default=200, help="questions to time")
    parser.add_argument("--warmup", type=int, default=5, help="untimed questions asked first")
    parser.add_argument("--cold-runs", type=int, default=5, help="rounds of process runs (0: skip)")
    return parser.parse_args()


def warm(
    args: argparse.Namespace, measured: list[dict[str, Any]], warmup: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Latency of `ask` in one process, with a breakdown by part from a second pass."""
    from bot.config import load_settings
    from bot.service import AnsweringService

    settings = load_settings(args.config, data_dir=args.data_dir)
    started = time.perf_counter()
    service = AnsweringService.open(settings)
    open_s = time.perf_counter() - started
    for q in warmup:
        service.ask(_clean(q["question"]))

    latencies, contained, abstained = [], 0, 0
    for q in measured:
        question = _clean(q["question"])
        started = time.perf_counter()
        answer = service.ask(question)
        latencies.append(time.perf_counter() - started)
        text = answer.text.lower()
        contained += any(gold.lower() in text for gold in q["answers"])
        abstained += answer.abstained
    parts = _timed_parts(service, [_clean(q["question"]) for q in measured])

    n = len(measured)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    mean_max = f"{statistics.mean(latencies) * 1000:.1f} / {max(latencies) * 1000:.1f} ms"
    rows = [
        ("index", f"{args.data_dir} ({service.store.count()} chunks)"),
        ("service open (in process)", f"{open_s:.2f} s"),
        ("questions timed (warm)", f"{n}, after {len(warmup)} untimed"),
        ("ask p50", _against(p50, "p50")),
        ("ask p95", _against(p95, "p95")),
        ("ask mean / max", mean_max),
        ("breakdown (2nd pass)", "p50 / p95 / mean ms"),
    ]
    rows += [(f"  {name}", _ms(times)) for name, times in parts.items()]
    rows += _open_parts(settings, service)
    rows += [
        ("answer_contained", f"{contained / n:.3f} ({contained}/{n}; gold string in answer text)"),
        ("abstained", f"{abstained / n:.3f} ({abstained}/{n})"),
    ]
    return rows


def _timed_parts(service: Any, questions: list[str]) -> dict[str, list[float]]:
    """Ask again with timers around the service's parts; per question, ms by part."""
    calls: dict[str, list[float]] = defaultdict(list)
    retriever = service.retriever
    retriever.embeddings = _Timed(retriever.embeddings, "embed_query", calls)
    snapshot = service.live.snapshot  # refresh_s keeps it for the run (no ingest meanwhile)
    search = "similarity_search_by_vector_with_relevance_scores"
    _wrap(snapshot.vectors, search, "chroma search", calls)
    _wrap(snapshot.vectors, "get", "chroma get (fetch)", calls)
    if snapshot.lexical is not None:
        _wrap(snapshot.lexical, "search", "bm25 search", calls)
    _wrap(service.answerer, "answer", "answer", calls)
    _wrap(service.store, "count", "store.count", calls)

    parts: dict[str, list[float]] = {name: [] for name in (*PARTS, "rest (LCEL etc.)", "total")}
    for question in questions:
        calls.clear()
        started = time.perf_counter()
        service.ask(question)
        total = time.perf_counter() - started
        for name in PARTS:
            parts[name].append(sum(calls.get(name, [])))
        parts["rest (LCEL etc.)"].append(total - sum(sum(t) for t in calls.values()))
        parts["total"].append(total)
    return parts


def cold(args: argparse.Namespace, question: str) -> list[tuple[str, str]]:
    """Median wall time of whole processes, run in interleaved rounds."""
    newsbot = shutil.which("newsbot", path=str(Path(sys.executable).parent)) or "newsbot"
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        _FLOOR: [sys.executable, "-c", "import chromadb"],
        "newsbot --help": [newsbot, "--help"],
        "newsbot ask": [
            newsbot,
            "ask",
            question,
            "--config",
            str(args.config),
            "--data-dir",
            str(args.data_dir),
        ],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    seconds: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.cold_runs):
        for name, command in commands.items():
            started = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            seconds[name].append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    median = {name: statistics.median(times) for name, times in seconds.items()}
    ask = median["newsbot ask"]
    rows = [("cold start", f"median of {args.cold_runs} interleaved runs (min-max)")]
    for name, times in seconds.items():
        rows.append((f"  {name}", f"{median[name]:.2f} s ({min(times):.2f}-{max(times):.2f})"))
    rows += [
        ("  newsbot ask goal", f"<= {_GOALS['cold']:.0f} s: {_met(ask, 'cold')}"),
        ("  ask / import chromadb", f"{ask / median[_FLOOR]:.2f}"),
        ("  ask / newsbot --help", f"{ask / median['newsbot --help']:.2f}"),
    ]
    return rows + _import_profile(
        [sys.executable, "-X", "importtime", *commands["newsbot ask"]], env
    )


def _import_profile(command: list[str], env: dict[str, str]) -> list[tuple[str, str]]:
    """One more `newsbot ask` under -X importtime: total import time, heaviest imports."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    top: list[tuple[float, str]] = []
    for line in done.stderr.splitlines():
        fields = line.split("|")
        if (
            not line.startswith("import time:")
            or len(fields) != 3
            or not fields[1].strip().isdigit()
        ):
            continue
        name = fields[2][1:]
        if not name.startswith(" "):  # imported directly, not by another import
            top.append((int(fields[1]) / 1e6, name))
    total = sum(s for s, _ in top)
    rows = [("  imports (1 run, -X importtime)", f"{total:.2f} s of {wall:.2f} s; heaviest:")]
    rows += [(f"    {name}", f"{s:.2f} s") for s, name in sorted(top, reverse=True)[:6]]
    return rows


class _Timed:
    """An embeddings object whose `embed_query` is timed."""

    def __init__(self, embeddings: Any, name: str, parts: dict[str, list[float]]) -> None:
        self.embed_query = _timed(embeddings.embed_query, name, parts)
        self.embed_documents = embeddings.embed_documents


def _open_parts(settings: Any, service: Any) -> list[tuple[str, str]]:
    """What opening the service costs, part by part (timed again after the run)."""
    from index.embedding.models import load_query_embeddings
    from index.store.bm25 import LexicalIndex, ids_digest, lexical_dir
    from index.store.chunks import open_existing

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("open Chroma store", lambda: open_existing(settings.data_dir)),
        ("load query embedder", lambda: load_query_embeddings(settings.embedding)),
        ("digest all chunk ids", lambda: ids_digest(service.store.chunk_ids())),
        ("load BM25 index", lambda: LexicalIndex.load(lexical_dir(service.store))),
    ]
    rows = [("service open, by part", "seconds (in a warm process)")]
    for name, step in steps:
        started = time.perf_counter()
        step()
        rows.append((f"  {name}", f"{time.perf_counter() - started:.2f} s"))
    return rows


def _wrap(owner: Any, method: str, name: str, parts: dict[str, list[float]]) -> None:
    """Replace `owner.method` on the instance with a timed version."""
    setattr(owner, method, _timed(getattr(owner, method), name, parts))


def _timed(fn: Callable[..., Any], name: str, parts: dict[str, list[float]]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name].append(time.perf_counter() - started)

    return timed


def _clean(question: str) -> str:
    """Whitespace collapsed, as the CLI does before asking."""
    return " ".join(question.split())


def _ms(values: list[float]) -> str:
    if len(values) < 2:
        return "-"
    p50, p95 = percentile(values, 50), percentile(values, 95)
    return f"{p50 * 1000:6.1f} / {p95 * 1000:6.1f} / {statistics.mean(values) * 1000:6.1f}"


def _against(seconds: float, goal: str) -> str:
    return f"{seconds * 1000:.1f} ms (goal <= {_GOALS[goal] * 1000:.0f}: {_met(seconds, goal)})"


def _met(value: float, goal: str) -> str:
    return "met" if value <= _GOALS[goal] else "NOT met"


if __name__ == "__main__":
    main()
