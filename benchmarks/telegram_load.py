"""Telegram load benchmark: 50 chats asking at once, through the emulator, against the real bot.

The real `newsbot telegram` process (its python-telegram-bot networking, rate limiter,
answer threads, streaming edits) serves simulated users on the local Bot API emulator,
in llm mode against the scripted OpenAI-compatible server (tests/harness/llm_server.py)
playing a hosted model: 0.5 s to the first token, then 40 tokens a second. The model
answers with the first sentences of the source it is given first, cited, so answers
pass the grounding check as a good model's would.

First one chat asks `--solo` questions one after another with nothing else running:
"one question's latency alone". Then every chat asks its questions in turn: send, wait
for the final answer (the streamed draft edited into the cited answer), pause
("think"), ask again. Printed: p50/p95/max from question to final answer and to the
first streamed text, and the load p95 over the solo p50 (issue #27's goal: <= 3x),
both measured in this run against the same bot.

Questions are the RealTime QA 2023 quizzes; the index is the first `--limit` of their
articles, ingested by the `newsbot` under test (`--newsbot`, default this venv's) into
a temp dir, or into `--data-dir` when that is missing (and reused when it is there).
`--newsbot` and `--config` of another checkout measure older code with this script.

    python benchmarks/telegram_load.py
    python benchmarks/telegram_load.py --newsbot /work/load-base/.venv/bin/newsbot \\
        --config /work/load-base/config.yaml
"""

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from report import newsbot_script, print_table

REPO = Path(__file__).resolve().parent.parent
SHARED = next((p / "shared" for p in REPO.parents if (p / "shared" / "eval").is_dir()), REPO)
EVAL = SHARED / "eval" / "realtimeqa-2023-articles"
_GOAL_RATIO = 3.0  # issue #27: load p95 <= 3x one question's latency alone
_POLL_EVERY_S = 0.02
_FIRST_SOURCE = re.compile(r'<source id="1"[^>]*>\n(.*?)\n</source>', re.DOTALL)

sys.path.insert(0, str(REPO / "tests"))
from harness.emulator_client import TelegramEmulator, free_port  # noqa: E402
from harness.llm_server import ScriptedLLM  # noqa: E402

from bot.answer import NOT_FOUND  # noqa: E402
from bot.evaluation.metrics import percentile  # noqa: E402
from bot.questions import WHO_IS_MEANT  # noqa: E402
from bot.telegram.handlers import APOLOGY  # noqa: E402
from bot.telegram.streaming import FALLBACK_LABEL  # noqa: E402
from index.sentences import sentence_spans  # noqa: E402


@dataclass
class Result:
    """One question as a user saw it."""

    chat_id: int
    question: str
    seconds: float | None = None  # to the final answer; None: none before the timeout
    first_s: float | None = None  # to the first text the bot showed (a draft or the answer)
    reply: str = ""
    shown: int = 0  # texts the answer's message showed: its send and each edit
    done_at: float | None = None  # perf_counter when the final answer was seen


def main() -> None:
    """Run the benchmark and print its figures."""
    args = _parse_args()
    queries = [json.loads(line) for line in args.queries.open(encoding="utf-8") if line.strip()]
    questions = [" ".join(q["question"].split()) for q in queries]
    wanted = args.chats * args.per_chat
    if len(questions) < wanted + args.solo:
        sys.exit(f"only {len(questions)} questions in {args.queries}; need {wanted + args.solo}")
    plan = [questions[i * args.per_chat : (i + 1) * args.per_chat] for i in range(args.chats)]
    solo_questions = questions[wanted : wanted + args.solo]
    with tempfile.TemporaryDirectory(prefix="telegram-load-") as tmp:
        scratch = Path(tmp)
        data_dir = args.data_dir or scratch / "data"
        if not data_dir.exists():
            ingest(args.newsbot, args.config, args.articles, args.limit, data_dir)
        with (
            ScriptedLLM(_cite_first_source, first_token_s=0.5, delay_s=1 / 40) as llm,
            TelegramEmulator().start(free_port()) as emulator,
        ):
            env = {
                "NEWSBOT_ANSWER__MODE": "llm",
                "NEWSBOT_LLM__PROVIDER": "openai",
                "NEWSBOT_LLM__BASE_URL": llm.base_url,
                "NEWSBOT_LLM__MODEL": "scripted",
                "OPENAI_API_KEY": "not-needed",
            }
            if args.max_concurrency:
                env["NEWSBOT_LLM__MAX_CONCURRENCY"] = str(args.max_concurrency)
            with running_bot(args.newsbot, args.config, emulator, data_dir, scratch, env) as bot:
                solo = asyncio.run(_drive(args, emulator, [solo_questions], 0.0, 0.0, 800_000))
                load_began = os.getloadavg()[0]
                started = time.perf_counter()
                results = asyncio.run(_drive(args, emulator, plan, args.think, args.ramp))
                rows = _figures(args, solo, results, started, len(llm.requests))
                rows.append(
                    ("load average at start / end", f"{load_began:.1f} / {os.getloadavg()[0]:.1f}")
                )
                rows.append(("bot peak RSS (VmHWM)", f"{peak_rss_mb(bot.process.pid):.0f} MB"))
            rows += bot.closing_rows()
    print_table(f"telegram load benchmark ({args.newsbot})", rows)
    for r in (r for r in results if r.seconds is None):
        print(f"no final answer: chat {r.chat_id}, {r.question!r}; showed {r.reply[:300]!r}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--newsbot", default=newsbot_script(), help="the console script to run")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="config file")
    parser.add_argument("--data-dir", type=Path, help="an index (made when missing)")
    parser.add_argument("--articles", type=Path, default=EVAL / "articles.jsonl")
    parser.add_argument("--queries", type=Path, default=EVAL / "queries.jsonl")
    parser.add_argument("--limit", type=int, default=150, help="articles to ingest")
    parser.add_argument("--chats", type=int, default=50, help="simulated chats")
    parser.add_argument("--per-chat", type=int, default=4, help="questions per chat")
    parser.add_argument("--solo", type=int, default=10, help="questions asked alone first")
    parser.add_argument("--think", type=float, default=3.0, help="mean pause between questions")
    parser.add_argument("--ramp", type=float, default=5.0, help="chats start within N seconds")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait per reply")
    parser.add_argument("--max-concurrency", type=int, help="llm.max_concurrency (default: config)")
    parser.add_argument("--seed", type=int, default=20230106)
    return parser.parse_args()


def _cite_first_source(messages: list[dict[str, Any]]) -> str:
    """What a good model says: the first source's opening sentences (up to ~40 words), cited."""
    found = _FIRST_SOURCE.search(messages[-1]["content"])
    if found is None:
        return "I don't know."
    text = found.group(1)
    said: list[str] = []
    for start, end in sentence_spans(text):
        sentence = " ".join(text[start:end].split()).rstrip(".")
        said.append(f"{sentence} [1].")
        if sum(len(s.split()) for s in said) >= 40:
            break
    return " ".join(said) or "I don't know."


def ingest(newsbot: str, config: Path, articles: Path, limit: int, data_dir: Path) -> None:
    """`newsbot ingest` the first `limit` articles into `data_dir`."""
    data_dir.mkdir(parents=True)
    source = data_dir / "articles.jsonl"
    with articles.open(encoding="utf-8") as lines, source.open("w", encoding="utf-8") as out:
        out.writelines(line for _, line in zip(range(limit), lines, strict=False))
    began = time.perf_counter()
    command = [newsbot, "ingest", str(source), "--config", str(config), "--data-dir", str(data_dir)]
    subprocess.run(command, check=True, env=environment(), capture_output=True)
    print(f"ingested {limit} articles in {time.perf_counter() - began:.0f} s", file=sys.stderr)


@dataclass
class RunningBot:
    """A `newsbot telegram` process and its log."""

    process: subprocess.Popen[bytes]
    log_file: Path
    exit_code: int | None = None

    def closing_rows(self) -> list[tuple[str, str]]:
        """Its exit code after SIGTERM and the ERROR lines it logged."""
        problems = [ln for ln in self.log_file.read_text("utf-8").splitlines() if "ERROR" in ln]
        return [
            ("bot exit code after SIGTERM", str(self.exit_code)),
            ("bot log ERROR lines", str(len(problems))),
        ]


@contextmanager
def running_bot(
    newsbot: str,
    config: Path,
    emulator: TelegramEmulator,
    data_dir: Path,
    scratch: Path,
    extra_env: dict[str, str],
) -> Iterator[RunningBot]:
    """Start `newsbot telegram` on the emulator, wait until it polls, stop it with SIGTERM."""
    log_file = scratch / "newsbot.log"
    env = environment() | {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE": emulator.api_base,
        "NEWSBOT_DATA_DIR": str(data_dir),
        "NEWSBOT_TELEGRAM__STATE_FILE": str(scratch / "telegram-state.sqlite"),  # fresh chats
        "NEWSBOT_TELEGRAM__QUESTIONS_PER_MINUTE": "600",  # the users here are not abusive
        "NEWSBOT_LOGGING__LEVEL": "WARNING",
        "NEWSBOT_LOGGING__FILE": str(log_file),
        **extra_env,
    }
    process = subprocess.Popen([newsbot, "telegram", "--config", str(config)], env=env, cwd=scratch)
    bot = RunningBot(process, log_file)
    try:
        deadline = time.monotonic() + 180
        while not emulator.commands():  # post_init registers the commands just before polling
            if process.poll() is not None or time.monotonic() > deadline:
                log = log_file.read_text("utf-8") if log_file.exists() else ""
                sys.exit(f"the bot did not start:\n{log}")
            time.sleep(0.1)
        yield bot
    finally:
        process.send_signal(signal.SIGTERM)
        bot.exit_code = process.wait(60)


async def _drive(
    args: argparse.Namespace,
    emulator: TelegramEmulator,
    plan: list[list[str]],
    think: float,
    ramp: float,
    first_chat: int = 900_000,
) -> list[Result]:
    """Every chat asks its questions in turn; one poller spots the answers."""
    rng = random.Random(args.seed)
    waiting: dict[int, tuple[int, Result, float, asyncio.Future[None]]] = {}
    results: list[Result] = []

    limits = httpx.Limits(max_connections=len(plan) + 10)
    async with httpx.AsyncClient(base_url=emulator.api_base, timeout=30, limits=limits) as http:

        async def call(path: str, **payload: Any) -> Any:
            response = await http.post(path, json={"token": emulator.token, **payload})
            return response.json()["result"]

        async def chat(chat_id: int, questions: list[str], start: float) -> None:
            await asyncio.sleep(start)
            for question in questions:
                result = Result(chat_id, question)
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                began = time.perf_counter()
                sent = await call("/sendMessage", text=question, user_id=chat_id)
                waiting[chat_id] = (sent["message"]["message_id"], result, began, future)
                try:
                    await asyncio.wait_for(future, args.timeout)
                except TimeoutError:
                    waiting.pop(chat_id, None)
                results.append(result)
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))

        async def check(chat_id: int) -> None:
            message_id, result, began, future = waiting[chat_id]
            history = await call("/emulator/history", chat_id=chat_id)
            now = time.perf_counter()
            for m in history["messages"]:
                if m.get("reply_to_message", {}).get("message_id") != message_id:
                    continue
                if result.first_s is None:
                    result.first_s = now - began
                result.reply = str(m.get("text", ""))
                if is_final(m):
                    result.seconds, result.reply = now - began, m["text"]
                    result.done_at = now
                    mine = [t for t in history["shown"] if t["message_id"] == m["message_id"]]
                    result.shown = len(mine)
                    waiting.pop(chat_id, None)
                    if not future.done():
                        future.set_result(None)
                return

        async def poll() -> None:
            while True:  # every waiting chat at once, so a round costs about one request
                await asyncio.gather(*(check(c) for c in list(waiting)))
                await asyncio.sleep(_POLL_EVERY_S)

        poller = asyncio.create_task(poll())
        await asyncio.gather(
            *(
                chat(first_chat + i, questions, rng.uniform(0, ramp))
                for i, questions in enumerate(plan)
            )
        )
        poller.cancel()
    return results


def is_final(message: dict[str, Any]) -> bool:
    """The bot's answer, not a streamed draft: it has the Sources button, or is the labelled
    extractive answer, an abstention, the apology or the question back when a pronoun has
    no one to stand for ("Who do you mean by …?"); drafts are bare checked sentences."""
    text = str(message.get("text", ""))
    asks_back = WHO_IS_MEANT.split("{")[0]
    return bool(message.get("reply_markup")) or text.startswith(
        (FALLBACK_LABEL, NOT_FOUND, APOLOGY, asks_back)
    )


def _figures(
    args: argparse.Namespace,
    solo: list[Result],
    results: list[Result],
    started: float,
    llm_requests: int,
) -> list[tuple[str, str]]:
    """The table rows about replies and latency."""
    seconds = [r.seconds for r in results if r.seconds is not None]
    firsts = [r.first_s for r in results if r.first_s is not None]
    alone = [r.seconds for r in solo if r.seconds is not None]
    if not seconds or not alone:
        sys.exit(f"no answers: {len(seconds)} under load, {len(alone)} alone")
    p95, alone50 = percentile(seconds, 95), percentile(alone, 50)
    ratio = p95 / alone50
    verdict = "met" if ratio <= _GOAL_RATIO else "NOT met"
    fallbacks = sum(r.reply.startswith(FALLBACK_LABEL) for r in results)
    apologies = sum(r.reply.startswith(APOLOGY) for r in results)
    load = f"{args.chats} chats x {args.per_chat} questions, think {args.think} s mean"
    busy = max(r.done_at for r in results if r.done_at is not None) - started
    shown = statistics.mean(r.shown for r in results if r.seconds is not None)
    sends = sum(r.shown for r in results) / busy  # the typing action is not counted
    return [
        ("load", f"{load}, ramp {args.ramp} s"),
        ("alone: p50 / p95 / max", _ms(alone, f"{len(alone)} questions, one chat, in turn")),
        ("loaded: p50 / p95 / max", _ms(seconds, "to the final answer")),
        ("loaded: first text p50/p95/max", _ms(firsts, "the first streamed draft")),
        ("loaded p95 / alone p50", f"{ratio:.2f}x (goal <= {_GOAL_RATIO:.0f}x: {verdict})"),
        ("loaded p95 / alone p95", f"{p95 / percentile(alone, 95):.2f}x"),
        ("answers received / asked", f"{len(seconds)} / {len(results)}"),
        ("extractive fallbacks / apologies", f"{fallbacks} / {apologies}"),
        ("LLM requests (both phases)", str(llm_requests)),
        ("throughput", f"{len(seconds) / busy:.1f} answers/s over {busy:.1f} s (to the last)"),
        ("answer message: send + edits", f"{shown:.2f} a question (mean)"),
        ("sends + edits a second", f"{sends:.1f} (Telegram allows a bot about 30)"),
    ]


def _ms(values: list[float], note: str) -> str:
    figures = [percentile(values, 50), percentile(values, 95), max(values)]
    return " / ".join(f"{v * 1000:.0f}" for v in figures) + f" ms ({note})"


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory so far, in MB."""
    return _status_kb(pid, "VmHWM:") / 1024


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB."""
    return _status_kb(pid, "VmRSS:") / 1024


def _status_kb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return float("nan")


def environment() -> dict[str, str]:
    """This environment without NEWSBOT_ settings, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    return env | {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


if __name__ == "__main__":
    main()
