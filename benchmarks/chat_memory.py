"""Chat memory benchmark: 10,000 distinct chats ask one question each; how much does the bot grow?

The real `newsbot telegram` process (extractive mode) answers on the local Bot API
emulator. `--warm-up` chats ask first, so the models, the index and the first
allocations of every kind are in place; then the bot's resident memory (VmRSS from
/proc) is read, `--chats` new chats ask one question each, `--in-flight` at a time, and
it is read again, with a sample every `--every` chats on the way. Issue #27's goal: it
grows by <= 100 MB over 10,000 chats, so chat state must not pile up in memory.

The index is `newsbot ingest samples` into a temp dir; the questions are the RealTime QA
2023 quizzes in turn (most are about other news, so the bot says the articles don't
answer them: the chat's turn is remembered and saved either way).

    python benchmarks/chat_memory.py
    python benchmarks/chat_memory.py --chats 2000
"""

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from report import newsbot_script, print_table
from telegram_load import EVAL, REPO, environment, rss_mb, running_bot

from bot.answer import NOT_FOUND

sys.path.insert(0, str(REPO / "tests"))
from harness.emulator_client import TelegramEmulator, free_port

_GOAL_MB = 100.0
_POLL_EVERY_S = 0.05


def main() -> None:
    """Run the benchmark and print its figures."""
    args = _parse_args()
    queries = [json.loads(line) for line in args.queries.open(encoding="utf-8") if line.strip()]
    questions = [" ".join(q["question"].split()) for q in queries]
    with tempfile.TemporaryDirectory(prefix="chat-memory-") as tmp:
        scratch = Path(tmp)
        data = scratch / "data"
        command = [args.newsbot, "ingest", str(REPO / "samples"), "--data-dir", str(data)]
        subprocess.run(command, check=True, capture_output=True, env=environment())
        env = {"NEWSBOT_ANSWER__MODE": "extractive"}
        with (
            TelegramEmulator().start(free_port()) as emulator,
            running_bot(args.newsbot, args.config, emulator, data, scratch, env) as bot,
        ):
            pid = bot.process.pid
            warm = asyncio.run(_ask(args, emulator, questions, 700_000, args.warm_up, pid))
            before = rss_mb(pid)
            began = time.perf_counter()
            counted = asyncio.run(_ask(args, emulator, questions, 1_000_000, args.chats, pid))
            wall = time.perf_counter() - began
            after = rss_mb(pid)
        rows = bot.closing_rows()
    growth = after - before
    answered = sum(counted.replies.values())
    verdict = "met" if growth <= _GOAL_MB else "NOT met"
    rows = [
        ("warm-up", f"{args.warm_up} chats ({warm.answered} answered) before the first reading"),
        ("chats", f"{args.chats} distinct chats, one question each, {args.in_flight} at a time"),
        ("answers received", f"{answered} / {args.chats} in {wall:.0f} s"),
        ("of which 'don't answer this'", str(counted.replies.get("abstained", 0))),
        ("RSS before / after", f"{before:.0f} / {after:.0f} MB"),
        ("RSS growth", f"{growth:.1f} MB (goal <= {_GOAL_MB:.0f} MB: {verdict})"),
        ("per chat", f"{growth * 1024 / args.chats:.2f} KB"),
        ("RSS every " + str(args.every) + " chats", " ".join(f"{mb:.0f}" for mb in counted.rss)),
        *rows,
    ]
    print_table(f"chat memory benchmark ({args.newsbot})", rows)


class Tally:
    """Replies by kind, and RSS samples along the way."""

    def __init__(self) -> None:
        self.replies: dict[str, int] = {}
        self.rss: list[float] = []

    @property
    def answered(self) -> int:
        """Questions that got their reply."""
        return sum(self.replies.values())


async def _ask(
    args: argparse.Namespace,
    emulator: TelegramEmulator,
    questions: list[str],
    first_chat: int,
    chats: int,
    pid: int,
) -> Tally:
    """`chats` new chats ask one question each, `args.in_flight` at a time."""
    tally = Tally()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(chats):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=args.in_flight + 4)
    async with httpx.AsyncClient(base_url=emulator.api_base, timeout=60, limits=limits) as http:

        async def call(path: str, **payload: Any) -> Any:
            response = await http.post(path, json={"token": emulator.token, **payload})
            return response.json()["result"]

        async def reply_to(chat_id: int, message_id: int) -> str | None:
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                history = await call("/emulator/history", chat_id=chat_id)
                for m in history["messages"]:  # extractive answers come whole: no drafts
                    if m.get("reply_to_message", {}).get("message_id") == message_id:
                        return str(m["text"])
                await asyncio.sleep(_POLL_EVERY_S)
            return None

        async def user() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                chat_id = first_chat + n
                question = questions[n % len(questions)]
                sent = await call("/sendMessage", text=question, user_id=chat_id)
                text = await reply_to(chat_id, sent["message"]["message_id"])
                kind = "none" if text is None else "abstained" if NOT_FOUND in text else "answer"
                tally.replies[kind] = tally.replies.get(kind, 0) + (kind != "none")
                if (n + 1) % args.every == 0:
                    tally.rss.append(rss_mb(pid))
                    print(f"{n + 1} chats: RSS {tally.rss[-1]:.0f} MB", file=sys.stderr)

        await asyncio.gather(*(user() for _ in range(args.in_flight)))
    return tally


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--newsbot", default=newsbot_script(), help="the console script to run")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="config file")
    parser.add_argument("--queries", type=Path, default=EVAL / "queries.jsonl")
    parser.add_argument("--chats", type=int, default=10_000, help="distinct chats measured")
    parser.add_argument("--warm-up", type=int, default=200, help="chats before the reading")
    parser.add_argument("--in-flight", type=int, default=8, help="chats asking at once")
    parser.add_argument("--every", type=int, default=1000, help="chats between RSS samples")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait per reply")
    return parser.parse_args()


if __name__ == "__main__":
    main()
