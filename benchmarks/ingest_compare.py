"""`ingest.py --compare`: the LangChain tutorial's indexing against `newsbot ingest`.

Each run is a fresh process, so imports, model load and Chroma's start count as they do
for a user. Per round, in this order, on the same first `--limit` articles (file order):

1. the tutorial (`ingest_tutorial.py`): whole-process wall time, and the seconds spent
   inside `embed_documents`;
2. `newsbot ingest ARTICLES --data-dir TMP --config CONFIG`, the console script: its
   whole-process wall time and the chunks its summary line reports;
3. `ingest.py --limit N` in a process of its own: the in-process breakdown (embedding
   phase, writer thread, chunking) and the raw-encode baseline on newsbot's own chunks.

`--repeat 2` runs two rounds back to back (tutorial, newsbot, tutorial, newsbot) and
reports medians. Children get the caller's environment unchanged: newsbot sets its own
(`TOKENIZERS_PARALLELISM=false` among others), the tutorial keeps the libraries'
defaults, as a user's script would. Tokens embedded are counted here, after the runs,
with the model's tokenizer, cut at the model window as the model cuts them.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from report import print_table

HERE = Path(__file__).resolve().parent
_SPECIAL_TOKENS = 2
_WIDTH = 22
Row = tuple[str, str]


def compare(args: argparse.Namespace, scratch: Path, articles: Path) -> None:
    """Run the rounds on `articles` and print the comparison, then each in-process breakdown."""
    from index.embedding.models import resolve_model

    model_dir = Path(resolve_model("sentence-transformers/all-MiniLM-L6-v2"))
    runs: dict[str, list[dict[str, Any]]] = {"tutorial": [], "newsbot": [], "in-process": []}
    for round_ in range(args.repeat):
        where = scratch / f"round-{round_}"
        where.mkdir()
        runs["tutorial"].append(_tutorial(articles, model_dir, where))
        runs["newsbot"].append(_console(articles, args.config, where))
        if not args.whole:
            runs["in-process"].append(_in_process(articles, args, where))
    if args.whole:
        print_table("ingest: LangChain tutorial vs newsbot, whole processes", _whole(runs))
        return
    print_table("ingest: LangChain tutorial vs newsbot", _rows(args, articles, model_dir, runs))
    for round_, run in enumerate(runs["in-process"]):
        print(f"\nin-process run, round {round_ + 1} of {args.repeat}:", end="")
        print(run["stdout"], end="")


def _timed(command: list[str], log: Path) -> tuple[float, float, str]:
    """Run `command`; wall seconds, its CPU seconds and its stdout. Fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as err:
        done = subprocess.run(
            command, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=err, text=True
        )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8")[-2000:]
        raise SystemExit(f"{command[:3]} exited {done.returncode}:\n{done.stdout}\n{tail}")
    return wall, cpu, done.stdout


def _tutorial(articles: Path, model_dir: Path, where: Path) -> dict[str, Any]:
    """The tutorial in a fresh process, into a fresh persist directory."""
    result = where / "tutorial.json"
    command = [sys.executable, str(HERE / "ingest_tutorial.py"), str(articles), str(model_dir)]
    command += [str(where / "tutorial-chroma"), str(result)]
    load = os.getloadavg()[0]
    wall, cpu, _ = _timed(command, where / "tutorial.log")
    figures = json.loads(result.read_text(encoding="utf-8"))
    return figures | {"wall_s": wall, "cpu_s": cpu, "load": load}


def _console(articles: Path, config: Path, where: Path) -> dict[str, Any]:
    """`newsbot ingest` as the console script, into a fresh data directory."""
    script = Path(sys.executable).with_name("newsbot")
    command = [str(script), "ingest", str(articles), "--data-dir", str(where / "newsbot-data")]
    command += ["--config", str(config)]
    load = os.getloadavg()[0]
    wall, cpu, stdout = _timed(command, where / "newsbot.log")
    found = re.search(r"(\d+) chunks in", stdout)
    return {"wall_s": wall, "cpu_s": cpu, "load": load, "chunks": int(found[1]) if found else 0}


def _in_process(articles: Path, args: argparse.Namespace, where: Path) -> dict[str, Any]:
    """`ingest.py` itself (no --compare) in a fresh process: breakdown and raw baseline."""
    result = where / "in-process.json"
    command = [sys.executable, str(HERE / "ingest.py"), "--articles", str(articles)]
    command += ["--config", str(args.config), "--data-dir", str(where / "in-process-data")]
    command += ["--raw-sample", str(args.raw_sample), "--seed", str(args.seed)]
    command += ["--json", str(result)]
    wall, _, stdout = _timed(command, where / "in-process.log")
    return json.loads(result.read_text(encoding="utf-8")) | {"wall_s": wall, "stdout": stdout}


def _tokens(texts: list[str], model_dir: Path) -> tuple[int, int, int]:
    """Tokens the model sees (cut at its window), the window, and how many texts it cut."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    window = int(config["max_seq_length"])
    counts = [
        len(e.ids) + _SPECIAL_TOKENS
        for e in tokenizer.encode_batch(texts, add_special_tokens=False)
    ]
    return sum(min(c, window) for c in counts), window, sum(c > window for c in counts)


def _cells(*cells: str) -> str:
    return "".join(f"{c:<{_WIDTH}}" for c in cells).rstrip()


def _measure(label: str, tut: list[float], bot: list[float], note: str = "") -> list[Row]:
    """A row of medians and their ratio; with several rounds, each round and its ratio."""
    t, b = statistics.median(tut), statistics.median(bot)
    rows = [(label, _cells(f"{t:.1f}", f"{b:.1f}{note}", f"{b / t:.2f}"))]
    if len(tut) > 1:
        rows.append(
            (
                " " * (len(label) - len(label.lstrip()) + 2) + "each round",
                _cells(
                    ", ".join(f"{v:.1f}" for v in tut),
                    ", ".join(f"{v:.1f}" for v in bot),
                    ", ".join(f"{y / x:.2f}" for x, y in zip(tut, bot, strict=True)),
                ),
            )
        )
    return rows


def _rows(
    args: argparse.Namespace, articles: Path, model_dir: Path, runs: dict[str, list[dict[str, Any]]]
) -> list[Row]:
    """The comparison table: medians of each measure and the ratios."""
    tut, bot, mine = runs["tutorial"], runs["newsbot"], runs["in-process"]
    tut_tokens, window, cut = _tokens(tut[-1]["texts"], model_dir)
    bot_tokens = mine[-1]["tokens"]
    tut_chunks, bot_chunks = tut[-1]["chunks"], bot[-1]["chunks"]
    tut_wall = statistics.median(r["wall_s"] for r in tut)
    bot_wall = statistics.median(r["wall_s"] for r in bot)
    tut_embed = [r["phases"]["embed_documents"] for r in tut]
    bot_embed = [r["embed_s"] for r in mine]
    loads = [f"{r['load']:.1f}" for pair in zip(tut, bot, strict=True) for r in pair]
    same = {r["chunks"] for r in bot} | {r["chunks"] for r in mine}
    e2e_raw = [r["chunks"] / r["e2e_s"] / r["raw_chunks_per_s"] for r in mine]
    cpu_raw = [r["raw_cpu_per_chunk"] / (r["e2e_cpu_s"] / r["chunks"]) for r in mine]
    whole_raw = [
        b["chunks"] / b["wall_s"] / m["raw_chunks_per_s"] for b, m in zip(bot, mine, strict=True)
    ]
    tut_rate = tut_tokens / statistics.median(tut_embed)  # tokens/s while embedding
    bot_rate = bot_tokens / statistics.median(bot_embed)
    setup = statistics.median(r["setup_s"] for r in mine)
    e2e = statistics.median(r["e2e_s"] for r in mine)
    rows: list[Row] = [
        ("corpus", f"{articles} (first {args.limit} articles in file order)"),
        (
            "runs",
            f"{args.repeat} round(s), each tutorial, newsbot ingest, in-process ingest.py; "
            "each a fresh process; medians",
        ),
        ("  load average at each start", ", ".join(loads) + " (tutorial, newsbot, ...)"),
        ("model", f"{model_dir} (window {window})"),
        ("", _cells("tutorial", "newsbot", "newsbot/tutorial")),
        *_measure("whole process s", [r["wall_s"] for r in tut], [r["wall_s"] for r in bot]),
        *_measure("  CPU s (user+sys)", [r["cpu_s"] for r in tut], [r["cpu_s"] for r in bot]),
        ("chunks", _cells(f"{tut_chunks}", f"{bot_chunks}" + ("" if len(same) == 1 else " (!)"))),
        (
            "chunks/s whole process",
            _cells(f"{tut_chunks / tut_wall:.1f}", f"{bot_chunks / bot_wall:.1f}"),
        ),
        (
            "tokens embedded",
            _cells(f"{tut_tokens}", f"{bot_tokens}", f"{bot_tokens / tut_tokens:.2f}"),
        ),
        (
            "  mean per chunk",
            _cells(f"{tut_tokens / tut_chunks:.1f}", f"{bot_tokens / bot_chunks:.1f}"),
        ),
        ("  cut at the window", _cells(f"{cut} chunks", "0 (by design)")),
        *_measure("embedding phase s", tut_embed, bot_embed, " (in-process)"),
        *_measure(
            "  CPU s (process)",
            [r["phases"]["embed_documents CPU"] for r in tut],
            [r["embed_cpu_s"] for r in mine],
            " (+ writer's)",
        ),
        (
            "  tokens/s embedding",
            _cells(f"{tut_rate:.0f}", f"{bot_rate:.0f}", f"{bot_rate / tut_rate:.2f}"),
        ),
        (
            "  share of the process",
            _cells(
                f"{statistics.median(tut_embed) / tut_wall:.0%}",
                f"{statistics.median(bot_embed) / bot_wall:.0%} (of whole process)",
            ),
        ),
        (
            "raw encode, newsbot's chunks",
            f"{statistics.median(r['raw_chunks_per_s'] for r in mine):.1f} chunks/s, "
            f"{statistics.median(r['raw_tokens_per_s'] for r in mine):.0f} tokens/s "
            f"(embed_documents, calls of {_ingest_batch(args)} texts)",
        ),
        ("ratio end to end / raw", f"{_median_of(e2e_raw)} (in-process Ingestor + BM25)"),
        ("  CPU s per chunk, raw / e2e", f"{_median_of(cpu_raw)} (less sensitive to load)"),
        ("ratio whole process / raw", f"{_median_of(whole_raw)} (console script)"),
        (
            "newsbot whole process",
            f"{setup:.1f} s setup + {e2e:.1f} s ingest and BM25 (in-process medians); "
            f"{bot_wall - setup - e2e:.1f} s else (imports, CLI, progress, exit)",
        ),
    ]
    phases = ("imports", "load + split", "model load", "from_documents", "embed_documents")
    parts = {name: statistics.median(r["phases"][name] for r in tut) for name in phases}
    rest = tut_wall - sum(parts[name] for name in phases[:4])
    rows.append(
        (
            "tutorial whole process",
            ", ".join(f"{name} {parts[name]:.1f} s" for name in phases[:4])
            + f" (embedding {parts['embed_documents']:.1f}); {rest:.1f} s else (start, exit)",
        )
    )
    return rows


def _whole(runs: dict[str, list[dict[str, Any]]]) -> list[Row]:
    """`--whole`: the whole-process rows alone."""
    tut, bot = runs["tutorial"], runs["newsbot"]
    loads = [f"{r['load']:.1f}" for pair in zip(tut, bot, strict=True) for r in pair]
    return [
        ("load average at each start", ", ".join(loads) + " (tutorial, newsbot, ...)"),
        ("", _cells("tutorial", "newsbot", "newsbot/tutorial")),
        *_measure("whole process s", [r["wall_s"] for r in tut], [r["wall_s"] for r in bot]),
        *_measure("  CPU s (user+sys)", [r["cpu_s"] for r in tut], [r["cpu_s"] for r in bot]),
        ("chunks", _cells(str(tut[-1]["chunks"]), str(bot[-1]["chunks"]))),
    ]


def _median_of(values: list[float]) -> str:
    """The median, and each round's value when there are several."""
    each = f" (rounds: {', '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else ""
    return f"{statistics.median(values):.2f}{each}"


def _ingest_batch(args: argparse.Namespace) -> int:
    from bot.config import load_settings

    return load_settings(args.config).ingest.batch_chunks
