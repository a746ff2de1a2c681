"""Store benchmark: the embedded Chroma against a Chroma server, on the same chunks.

Embedding is the same work on either backend (and 97% of ingest time), so the chunks and
their vectors are read once from an existing embedded index (default: the full
RealTime QA corpus that `benchmarks/ingest.py` builds, 1,495 articles) instead of being
embedded again. Both backends then get, in one run:

- **write**: every chunk stored through `ChunkStore.add` in ingest's batches, then the
  BM25 rebuild (`sync_lexical`); chunks/s and the server/embedded ratio. A sample of
  chunks is embedded too, so the end-to-end ingest ratio can be projected.
- **query**: the same questions through `AnsweringService.ask` (retrieval and the
  extractive answer); p50/p95 latency, and CPU per question in this process and, for the
  server, in the server process (from /proc), with ratios.
- **memory**: the server's resident memory after loading and after the queries.

    python benchmarks/store.py                       # the full corpus
    python benchmarks/store.py --limit 200 --questions 30   # quick
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import print_table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
QUERIES = REPO.parent / "shared" / "eval" / "realtimeqa-2023-articles" / "queries.jsonl"
SOURCE = Path("/work/bench-data/articles")
BATCH = 512  # chunks per store write, as ingest writes them


def main() -> None:
    """Run the benchmark and print its table."""
    args = _parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chroma_server import ChromaServer
    from emulator_client import free_port

    with tempfile.TemporaryDirectory(prefix="newsbot-store-bench-") as scratch:
        root = Path(scratch)
        chunks = read_chunks(args.source, root, args.limit)
        server = ChromaServer(root / "server", free_port()).start()
        try:
            rows = run(args, root, chunks, server)
        finally:
            server.stop()
    print_table("store benchmark: embedded vs server", rows)


def read_chunks(source: Path, root: Path, limit: int | None) -> dict[str, list[Any]]:
    """Every chunk of the source index (or of its first `limit` articles), with vectors."""
    from index.store.chunks import open_existing

    if not (source / "chroma").is_dir():
        sys.exit(f"no index in {source}: build one with benchmarks/ingest.py, or pass --source")
    copy = root / "source"
    shutil.copytree(source / "chroma", copy / "chroma")  # never touch the shared copy
    store = open_existing(copy)
    keep = None
    if limit:
        keep = set(sorted(store.articles())[:limit])
    out: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
    for page in store.pages(["documents", "metadatas", "embeddings"]):
        for i, chunk in enumerate(page["ids"]):
            meta = page["metadatas"][i]
            if keep is None or meta["article_id"] in keep:
                out["ids"].append(chunk)
                out["documents"].append(page["documents"][i])
                out["metadatas"].append(meta)
                out["embeddings"].append(page["embeddings"][i])
    return out


def run(args: argparse.Namespace, root: Path, chunks: dict[str, list[Any]], server: Any) -> list:
    """Write, query and measure both backends; the table rows."""
    from bot.config import load_settings

    n = len(chunks["ids"])
    articles = len({m["article_id"] for m in chunks["metadatas"]})
    rows: list[tuple[str, str]] = [("chunks", f"{n} from {articles} articles ({args.source})")]
    backends = {
        "embedded": load_settings(data_dir=root / "embedded"),
        "server": load_settings(
            data_dir=root / "server-client",
            store={"backend": "server", "host": "127.0.0.1", "port": server.port},
        ),
    }
    writes = {name: write(settings, chunks) for name, settings in backends.items()}
    rss_loaded = rss_mb(server.proc.pid)
    embed_per_chunk = embed_sample(chunks["documents"][: args.embed_sample])
    for name, (store_s, bm25_s) in writes.items():
        rows.append(
            (
                f"write, {name}",
                f"{n / store_s:,.0f} chunks/s ({store_s:.1f} s; BM25 {bm25_s:.1f} s)",
            )
        )
    ratio = writes["server"][0] / writes["embedded"][0]
    rows.append(("write time, server / embedded", f"{ratio:.2f}x"))
    embedded_total = embed_per_chunk * n + sum(writes["embedded"])
    server_total = embed_per_chunk * n + sum(writes["server"])
    rows.append(
        (
            "ingest, projected",
            f"embedding {embed_per_chunk * 1000:.0f} ms/chunk; end to end server / embedded "
            f"{server_total / embedded_total:.3f}x",
        )
    )
    questions = read_questions(args.questions)
    results = {
        name: query(settings, questions, server, name) for name, settings in backends.items()
    }
    for name, r in results.items():
        rows.append(
            (
                f"query, {name}",
                f"p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, "
                f"CPU {r['cpu_client'] * 1000:.0f} ms here + {r['cpu_server'] * 1000:.0f} ms "
                f"in the server per question ({len(questions)} questions)",
            )
        )
    e, s = results["embedded"], results["server"]
    rows.append(("query p50, server / embedded", f"{s['p50'] / e['p50']:.2f}x"))
    cpu_e, cpu_s = e["cpu_client"], s["cpu_client"] + s["cpu_server"]
    rows.append(("query CPU, server / embedded", f"{cpu_s / cpu_e:.2f}x"))
    rss_after = rss_mb(server.proc.pid)
    rows.append(
        (
            "server memory (RSS)",
            f"{rss_loaded:.0f} MB loaded, {rss_after:.0f} MB after queries: "
            f"{rss_after * 1024 / n:.1f} KB per chunk",
        )
    )
    return rows


def write(settings: Any, chunks: dict[str, list[Any]]) -> tuple[float, float]:
    """Seconds to store every chunk in batches, and to rebuild BM25 afterwards."""
    from index.store.bm25 import sync_lexical
    from index.store.chunks import ChunkStore

    store = ChunkStore(settings.data_dir, backend=settings.store)
    started = time.perf_counter()
    for i in range(0, len(chunks["ids"]), BATCH):
        part = slice(i, i + BATCH)
        store.add(
            chunks["ids"][part],
            chunks["documents"][part],
            chunks["embeddings"][part],
            chunks["metadatas"][part],
        )
    stored = time.perf_counter() - started
    started = time.perf_counter()
    sync_lexical(store)
    return stored, time.perf_counter() - started


def embed_sample(texts: list[str]) -> float:
    """Seconds per chunk to embed a sample with the document model (the same on both)."""
    from bot.config import Settings
    from index.embedding.models import load_document_encoder

    encoder = load_document_encoder(Settings().embedding)
    encoder.embeddings.embed_documents(texts[:8])  # warm up
    started = time.perf_counter()
    encoder.embeddings.embed_documents(texts)
    return (time.perf_counter() - started) / len(texts)


def read_questions(count: int) -> list[str]:
    """The first questions of the RealTime QA set."""
    lines = QUERIES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:count]


def query(settings: Any, questions: list[str], server: Any, name: str) -> dict[str, float]:
    """Latency percentiles and CPU seconds per question of `AnsweringService.ask`."""
    from bot.service import AnsweringService

    service = AnsweringService.open(settings)
    for question in questions[:5]:  # warm up: model, caches, connections
        service.ask(question)
    cpu_server = server_cpu(server.proc.pid)
    cpu = time.process_time()
    latencies = []
    for question in questions:
        started = time.perf_counter()
        service.ask(question)
        latencies.append(time.perf_counter() - started)
    cpu_client = (time.process_time() - cpu) / len(questions)
    per_server = (server_cpu(server.proc.pid) - cpu_server) / len(questions)
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "cpu_client": cpu_client,
        "cpu_server": per_server if name == "server" else 0.0,
    }


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="an embedded index to copy")
    parser.add_argument("--limit", type=int, help="only the first N articles (by id)")
    parser.add_argument("--questions", type=int, default=100, help="questions timed per backend")
    parser.add_argument("--embed-sample", type=int, default=256, help="chunks embedded to time")
    return parser.parse_args()


if __name__ == "__main__":
    main()
