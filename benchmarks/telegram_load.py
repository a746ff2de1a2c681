"""Telegram load benchmark: many chats asking at once, through the emulator, against the real bot.

The real `newsbot telegram` process (its python-telegram-bot networking, AIORateLimiter,
answer thread pool) serves simulated users on the local Bot API emulator. Each chat asks
its questions one after another: send, wait for the reply, pause ("think"), ask again.
Printed: replies received vs expected, p50/p95 from question to answer, the bot's peak
RSS, and the same questions answered directly through `AnsweringService.ask`, in this
process and one at a time, as a baseline measured in the same run.

Questions come from the RealTime QA article quizzes; the index should hold their 1,495
articles. `--data-dir` reuses an index (ingesting them all takes ~10 minutes); without a
complete one there, the articles (or the first `--limit`) are ingested into a temp dir.

    python benchmarks/telegram_load.py
    python benchmarks/telegram_load.py --data-dir /work/bench-data/articles --think 0
    python benchmarks/telegram_load.py --limit 200
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval" / "realtimeqa-2023-articles"
DATA_DIR = Path("/work/bench-data/articles")
_GOAL_P95_S = 2.0
_POLL_EVERY_S = 0.02

sys.path.insert(0, str(REPO / "tests"))
from harness.emulator_client import TelegramEmulator, free_port  # noqa: E402

from bot.evaluation.metrics import percentile  # noqa: E402


@dataclass
class Result:
    """One question as a user saw it."""

    chat_id: int
    question: str
    answers: list[str]
    seconds: float | None = None  # None: no reply before the timeout
    reply: str = ""


def main() -> None:
    """Run the benchmark and print its figures."""
    args = _parse_args()
    queries = [json.loads(line) for line in args.queries.open(encoding="utf-8") if line.strip()]
    wanted = args.chats * args.per_chat
    if len(queries) < wanted:
        sys.exit(f"only {len(queries)} questions in {args.queries}; need {wanted}")
    plan = [queries[i * args.per_chat : (i + 1) * args.per_chat] for i in range(args.chats)]
    with tempfile.TemporaryDirectory(prefix="telegram-load-") as tmp:
        scratch = Path(tmp)
        data_dir, articles = _index(args, scratch)
        direct = _direct_baseline(args, data_dir, [q for chat in plan for q in chat])
        with TelegramEmulator().start(free_port()) as emulator:
            bot, log_file = _start_bot(args, emulator, data_dir, scratch)
            try:
                started = time.perf_counter()
                results, poll_rounds = asyncio.run(_drive(args, emulator, plan))
                wall = time.perf_counter() - started
                peak_rss_mb = _peak_rss_mb(bot.pid)
            finally:
                bot.send_signal(signal.SIGTERM)
                exit_code = bot.wait(60)
        problems = [line for line in log_file.read_text("utf-8").splitlines() if "ERROR" in line]
    rows = _figures(args, data_dir, articles, results, direct, wall)
    rows += [
        ("bot peak RSS (VmHWM)", f"{peak_rss_mb:.0f} MB"),
        ("bot exit code after SIGTERM", str(exit_code)),
        ("bot log ERROR lines", str(len(problems))),
        ("reply polling round", f"{statistics.mean(poll_rounds):.1f} ms mean (adds to latency)"),
    ]
    print(
        f"\ntelegram load benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"python {sys.version.split()[0]})"
    )
    for label, value in rows:
        print(f"  {label:<30}  {value}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="an ingested index")
    parser.add_argument("--articles", type=Path, default=EVAL / "articles.jsonl")
    parser.add_argument("--queries", type=Path, default=EVAL / "queries.jsonl")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="config file")
    parser.add_argument("--limit", type=int, help="when building an index: first N articles")
    parser.add_argument("--chats", type=int, default=50, help="simulated chats")
    parser.add_argument("--per-chat", type=int, default=4, help="questions per chat")
    parser.add_argument("--think", type=float, default=3.0, help="mean pause between questions")
    parser.add_argument("--ramp", type=float, default=5.0, help="chats start within N seconds")
    parser.add_argument("--workers", type=int, help="telegram.answer_workers (default: config)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait per reply")
    parser.add_argument("--seed", type=int, default=20230106)
    return parser.parse_args()


def _settings(args: argparse.Namespace, data_dir: Path) -> Any:
    from bot.config import load_settings

    return load_settings(args.config, data_dir=data_dir)


def _index(args: argparse.Namespace, scratch: Path) -> tuple[Path, int]:
    """A data dir holding every article (or --limit of them): reused when complete."""
    from bot.service import AnsweringService
    from index.errors import EmptyIndexError

    expected = sum(1 for line in args.articles.open(encoding="utf-8") if line.strip())
    expected = min(expected, args.limit or expected)
    try:
        held = AnsweringService.open(_settings(args, args.data_dir)).stats().articles
    except EmptyIndexError:
        held = 0
    if held >= expected:
        return args.data_dir, held
    print(f"{args.data_dir} holds {held} of {expected} articles: ingesting into a temp dir")
    source = scratch / "articles.jsonl"
    with args.articles.open(encoding="utf-8") as lines, source.open("w", encoding="utf-8") as out:
        out.writelines(line for _, line in zip(range(expected), lines, strict=False))
    data_dir = scratch / "data"
    began = time.perf_counter()
    subprocess.run(
        [
            _newsbot(),
            "ingest",
            str(source),
            "--config",
            str(args.config),
            "--data-dir",
            str(data_dir),
        ],
        check=True,
        env=_environment(),
    )
    print(f"ingested in {time.perf_counter() - began:.0f} s")
    return data_dir, expected


def _direct_baseline(
    args: argparse.Namespace, data_dir: Path, queries: list[dict[str, Any]]
) -> list[float]:
    """Seconds per question through AnsweringService.ask, in process, one at a time."""
    from bot.service import AnsweringService

    service = AnsweringService.open(_settings(args, data_dir))
    for q in queries[:3]:
        service.ask(_clean(q["question"]))  # warm-up
    seconds = []
    for q in queries:
        began = time.perf_counter()
        service.ask(_clean(q["question"]))
        seconds.append(time.perf_counter() - began)
    return seconds


def _start_bot(
    args: argparse.Namespace, emulator: TelegramEmulator, data_dir: Path, scratch: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    log_file = scratch / "newsbot.log"
    env = _environment() | {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE": emulator.api_base,
        "NEWSBOT_DATA_DIR": str(data_dir),
        "NEWSBOT_TELEGRAM__QUESTIONS_PER_MINUTE": "600",  # the users here are not abusive
        "NEWSBOT_LOGGING__LEVEL": "WARNING",
        "NEWSBOT_LOGGING__FILE": str(log_file),
    }
    if args.workers:
        env["NEWSBOT_TELEGRAM__ANSWER_WORKERS"] = str(args.workers)
    bot = subprocess.Popen(
        [_newsbot(), "telegram", "--config", str(args.config)], env=env, cwd=scratch
    )
    deadline = time.monotonic() + 120
    while not emulator.commands():  # post_init registers the commands just before polling
        if bot.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the bot did not start:\n{log_file.read_text('utf-8')}")
        time.sleep(0.1)
    return bot, log_file


async def _drive(
    args: argparse.Namespace, emulator: TelegramEmulator, plan: list[list[dict[str, Any]]]
) -> tuple[list[Result], list[float]]:
    """Every chat asks its questions in turn; one poller spots the replies."""
    rng = random.Random(args.seed)
    waiting: dict[int, tuple[int, asyncio.Future[str]]] = {}
    results: list[Result] = []
    rounds: list[float] = []

    limits = httpx.Limits(max_connections=args.chats + 10)
    async with httpx.AsyncClient(base_url=emulator.api_base, timeout=30, limits=limits) as http:

        async def call(path: str, **payload: Any) -> Any:
            response = await http.post(path, json={"token": emulator.token, **payload})
            return response.json()["result"]

        async def chat(chat_id: int, questions: list[dict[str, Any]], start: float) -> None:
            await asyncio.sleep(start)
            for q in questions:
                result = Result(chat_id, _clean(q["question"]), q["answers"])
                future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
                began = time.perf_counter()
                sent = await call("/sendMessage", text=result.question, user_id=chat_id)
                waiting[chat_id] = (sent["message"]["message_id"], future)
                try:
                    result.reply = await asyncio.wait_for(future, args.timeout)
                    result.seconds = time.perf_counter() - began
                except TimeoutError:
                    waiting.pop(chat_id, None)
                results.append(result)
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))

        async def check(chat_id: int, message_id: int, future: asyncio.Future[str]) -> None:
            history = await call("/emulator/history", chat_id=chat_id)
            for m in history["messages"]:
                if m.get("reply_to_message", {}).get("message_id") == message_id:
                    waiting.pop(chat_id, None)
                    if not future.done():
                        future.set_result(m["text"])
                    return

        async def poll() -> None:
            while True:  # every waiting chat at once, so a round costs about one request
                began = time.perf_counter()
                await asyncio.gather(*(check(c, *w) for c, w in list(waiting.items())))
                rounds.append((time.perf_counter() - began) * 1000)
                await asyncio.sleep(_POLL_EVERY_S)

        poller = asyncio.create_task(poll())
        chats = [
            chat(900_000 + i, questions, rng.uniform(0, args.ramp))
            for i, questions in enumerate(plan)
        ]
        await asyncio.gather(*chats)
        poller.cancel()
    return results, rounds


def _figures(
    args: argparse.Namespace,
    data_dir: Path,
    articles: int,
    results: list[Result],
    direct: list[float],
    wall: float,
) -> list[tuple[str, str]]:
    """The table rows about replies and latency."""
    seconds = [r.seconds for r in results if r.seconds is not None]
    p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
    d50, d95 = percentile(direct, 50), percentile(direct, 95)
    contained = sum(any(a.lower() in r.reply.lower() for a in r.answers) for r in results)
    goal = "meets" if p95 <= _GOAL_P95_S else "MISSES"
    load = f"{args.chats} chats x {args.per_chat} questions, think {args.think} s mean"
    return [
        ("index", f"{data_dir} ({articles} articles)"),
        ("load", f"{load}, ramp {args.ramp} s"),
        ("replies received / expected", f"{len(seconds)} / {len(results)}"),
        ("question -> answer p50", f"{p50 * 1000:.0f} ms"),
        ("question -> answer p95", f"{p95 * 1000:.0f} ms ({goal} the {_GOAL_P95_S:.0f} s goal)"),
        ("question -> answer max", f"{max(seconds, default=0) * 1000:.0f} ms"),
        ("throughput", f"{len(seconds) / wall:.1f} answers/s over {wall:.1f} s"),
        ("direct ask p50 / p95", f"{d50 * 1000:.0f} / {d95 * 1000:.0f} ms (in process, in turn)"),
        ("bot p95 / direct p95", f"{p95 / d95:.1f}x"),
        ("answer has the gold string", f"{contained} / {len(results)} (information only)"),
    ]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _clean(question: str) -> str:
    return " ".join(question.split())


def _newsbot() -> str:
    script = shutil.which("newsbot", path=str(Path(sys.executable).parent))
    if script is None:
        sys.exit("the newsbot console script is not installed next to this python")
    return script


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    return env | {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


if __name__ == "__main__":
    main()
