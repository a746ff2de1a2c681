"""Cold-start benchmark: CPU seconds of a whole `newsbot ask` process against its floor.

The floor is what the design puts on the ask path and newsbot can't cut:
`python -c "import chromadb, langchain_chroma, langchain_core.runnables"` (LangChain's
retrieval chain and langchain-chroma). `python -c "import chromadb"` is measured too.
The three run as whole processes in turn, round after round, and each run's CPU seconds
(user + system, from the kernel's accounting of the finished child) are compared pair
by pair: the machine is shared, so only ratios within a round mean much.

Then one more `newsbot ask`, in process, with CPU timers around its stages (imports
beyond the floor, settings, the question embedder, the Chroma client, the snapshot,
the chain's run) says where the time above the floor goes.

The index is `newsbot ingest samples` into a temporary --data-dir (made once per run),
the question "What did Shalom cite?".

    python benchmarks/cold_start.py
    python benchmarks/cold_start.py --rounds 10
"""

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from report import newsbot_script, print_table

REPO = Path(__file__).resolve().parent.parent
QUESTION = "What did Shalom cite?"
FLOOR = "import chromadb, langchain_chroma, langchain_core.runnables"
_GOAL = 1.25  # issue #27: cold ask <= 1.25x the floor, CPU seconds

STAGES = """
import json, sys, time
clock = time.process_time
marks = [("interpreter start", clock())]
import chromadb, langchain_chroma, langchain_core.runnables
marks.append(("floor imports", clock()))
from bot.main import main
from bot.service import AnsweringService
marks.append(("newsbot's own imports", clock()))
import bot.service as service_module, index.embedding.models as models, index.store.chunks as chunks
import index.search.live as live, bot.cli.asking as asking
def timed(owner, name, label):
    inner = getattr(owner, name)
    def wrapper(*args, **kwargs):
        started = clock()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + clock() - started
    setattr(owner, name, wrapper)
spent = {}
timed(service_module, "load_query_embeddings", "question embedder (ONNX session)")
timed(service_module, "open_existing", "Chroma client and collection")
timed(live.LiveIndex, "_build", "snapshot (BM25 load, vector store)")
timed(asking, "print_stream", "the chain's run (retrieve, answer, print)")
sys.argv = ["newsbot", "ask", "--data-dir", sys.argv[1], sys.argv[2]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
marks.append(("`newsbot ask` itself", clock()))
print(json.dumps({"marks": marks, "spent": spent}))
"""


def main() -> None:
    """Run the benchmark and print its table."""
    args = _parse_args()
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        data = Path(scratch) / "data"
        newsbot = newsbot_script()
        subprocess.run(
            [newsbot, "ingest", str(REPO / "samples"), "--data-dir", str(data)],
            check=True,
            capture_output=True,
        )
        commands = {
            "newsbot ask": [newsbot, "ask", "--data-dir", str(data), QUESTION],
            "floor": [sys.executable, "-c", FLOOR],
            "import chromadb": [sys.executable, "-c", "import chromadb"],
        }
        # Bytecode as a user's install has it: pip compiles the libraries' .pyc files, and
        # newsbot's own are written by its first run (the warm-up). With
        # PYTHONDONTWRITEBYTECODE set (as in some shells), every `newsbot ask` would
        # compile newsbot's modules from source, 0.16 CPU s the floor never pays.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("NEWSBOT_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        for command in commands.values():  # warm-up: the disk cache, .pyc files
            _cpu(command, env, cwd=scratch)
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                cpu[name].append(_cpu(command, env, cwd=scratch))
        stages = _stages(data, env, scratch)
    rows = [("runs", f"{args.rounds} rounds of the three, in turn; CPU s median (min-max)")]
    for name, seconds in cpu.items():
        label = f"{name} ({FLOOR})" if name == "floor" else name
        rows.append((f"  {label}", _spread(seconds)))
    for base in ("floor", "import chromadb"):
        ratios = [a / b for a, b in zip(cpu["newsbot ask"], cpu[base], strict=True)]
        verdict = (
            f" (goal <= {_GOAL}x: {'met' if statistics.median(ratios) <= _GOAL else 'NOT met'})"
        )
        rows.append((f"ask / {base}", _spread(ratios, "x") + (verdict if base == "floor" else "")))
    rows.append(("above the floor, by stage", "CPU s in one more run, in process"))
    rows += [(f"  {label}", f"{seconds:.3f}") for label, seconds in stages]
    print_table("cold start benchmark", rows)


def _cpu(command: list[str], env: dict[str, str], cwd: str) -> float:
    """The CPU seconds (user + system) of one whole process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _stages(data: Path, env: dict[str, str], cwd: str) -> list[tuple[str, float]]:
    """Where one `newsbot ask` spends its CPU seconds, floor imports first."""
    command = [sys.executable, "-c", STAGES, str(data), QUESTION]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    whole = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    marks = found["marks"]
    rows = [(marks[0][0], marks[0][1])]
    rows += [(name, end - start) for (_, start), (name, end) in itertools.pairwise(marks)]
    own = rows.pop()  # the command's run: broken down by the timed parts, then the rest
    parts = sorted(found["spent"].items(), key=lambda item: -item[1])
    rows += [(f"  {label}", seconds) for label, seconds in parts]
    rows.append(("  the rest of `newsbot ask`", own[1] - sum(s for _, s in parts)))
    rows.append(("interpreter exit (threads, atexit)", whole - marks[-1][1]))
    return rows


def _spread(values: list[float], unit: str = "") -> str:
    median = statistics.median(values)
    return f"{median:.3f}{unit} ({min(values):.3f}-{max(values):.3f})"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the three processes")
    return parser.parse_args()


if __name__ == "__main__":
    main()
