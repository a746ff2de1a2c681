"""Replicas load benchmark (#26): webhook replicas on Postgres against one replica on SQLite.

The deployment under load: 3 `newsbot telegram --webhook` replicas sharing a real
PostgreSQL state (a throw-away cluster started here) behind the round-robin balancer of
tests/harness/replicas.py, one `chroma run` server, extractive answers, and the Telegram
emulator delivering every update by webhook. The baseline, in the same run and under the
same load: ONE replica on a SQLite state file (the same Chroma server and balancer).

The load: `--chats` chats ask `--questions` questions each. Half are private chats asking
one after another; half are groups where two users ask at once (two questions in flight
in one chat). Each answer's Sources button is pressed. Meanwhile a local news site
(tests/harness/news_server.py) gains an article every `--publish-s` seconds, the leader
refreshes the feed every `--refresh-s`, and `--watchers` chats watch those articles.

Counted, with a goal of 0 each: lost turns (a question with no answer), duplicate answers
(two replies to one question), wrong Sources (a Sources page quoting what its answer did
not quote: another answer's citations), duplicate alerts (one article alerted twice to
one chat). Timed: question -> answer p50/p95, as ratios to the baseline.

    python benchmarks/replicas_load.py                        # 100 chats x 5 questions
    python benchmarks/replicas_load.py --chats 10 --questions 2
"""

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from harness.chroma_server import ChromaServer  # noqa: E402
from harness.emulator_client import TelegramEmulator, free_port  # noqa: E402
from harness.news_server import FRESH, MARKET, NewsSite, Story, serve  # noqa: E402
from harness.newsbot import SAMPLE  # noqa: E402
from harness.postgres import PostgresCluster  # noqa: E402
from harness.replicas import Replica, RoundRobin  # noqa: E402

from bot.evaluation.metrics import percentile  # noqa: E402
from bot.state import default_url  # noqa: E402

# (question, a word its answer must hold): the sample article and the site's first stories
QUESTIONS = [
    ("Who is Ephraim Michaeli?", "Michaeli"),
    ("What did Shalom cite?", "Dolphinarium"),
    ("What did Lavrov say about terror?", "terror"),
    ("When did the Tallowmere harbour bridge reopen?", "Tuesday"),
    ("How much did the harbour bridge repairs cost?", "48 million"),
    ("Who cut the ribbon at the harbour bridge?", "Solberg"),
    ("How many visitors came to the lantern festival?", "60,000"),
    ("Who built the paper whale lantern?", "Northgate"),
    ("How often did the trams run after the lantern festival?", "five minutes"),
]
WATCHES = ("electric ferry", "fish market")
_POLL_S = 0.1


@dataclass
class Turn:
    """One question as its user saw it."""

    chat_id: int
    question: str
    expect: str
    message_id: int = 0
    seconds: float | None = None  # None: no answer before the timeout
    answer: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] | None = None  # the Sources page opened from the answer's button


@dataclass
class Run:
    """What one deployment did under the load."""

    name: str
    turns: list[Turn]
    wall_s: float
    duplicate_answers: int
    alerts: int
    duplicate_alerts: int
    published: int
    errors: int

    def seconds(self) -> list[float]:
        return [t.seconds for t in self.turns if t.seconds is not None]

    def lost(self) -> int:
        return sum(t.seconds is None for t in self.turns)

    def wrong_sources(self) -> int:
        return sum(t.sources is not None and not _same_quotes(t) for t in self.turns)

    def unopened_sources(self) -> int:
        return sum(t.seconds is not None and t.sources is None for t in self.turns)

    def off_answers(self) -> int:
        return sum(
            t.seconds is not None and t.expect.lower() not in t.answer.get("text", "").lower()
            for t in self.turns
        )


def main() -> None:
    """Run the baseline and the replicas under one load, and print the figures."""
    args = _parse_args()
    with tempfile.TemporaryDirectory(prefix="replicas-load-") as tmp:
        root = Path(tmp)
        chroma = ChromaServer(root / "chroma", free_port()).start()
        postgres = PostgresCluster(free_port()).start()
        try:
            baseline = _run(args, root / "baseline", chroma, 1, None)
            replicas = _run(args, root / "replicas", chroma, args.replicas, postgres.url)
        finally:
            postgres.remove()
            chroma.stop()
    _print(args, baseline, replicas)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=100, help="chats; half of them groups")
    parser.add_argument("--questions", type=int, default=5, help="questions per chat")
    parser.add_argument("--replicas", type=int, default=3, help="replicas on Postgres")
    parser.add_argument("--watchers", type=int, default=10, help="chats watching the feed")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between questions")
    parser.add_argument("--ramp", type=float, default=10.0, help="chats start within N seconds")
    parser.add_argument("--refresh-s", type=float, default=6.0, help="feed refresh interval")
    parser.add_argument("--publish-s", type=float, default=4.0, help="a new article every N s")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait per reply")
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--log-level", default="WARNING", help="the replicas' logging.level")
    parser.add_argument("--keep-logs", type=Path, help="copy the replicas' logs into this folder")
    return parser.parse_args()


def _run(
    args: argparse.Namespace, root: Path, chroma: ChromaServer, count: int, state: str | None
) -> Run:
    """One deployment, fresh (collection, state, site, emulator), under the whole load."""
    name = f"{count} replica{'s' if count > 1 else ''} on {'Postgres' if state else 'SQLite'}"
    _progress(name)
    root.mkdir(parents=True)
    store = {
        "backend": "server",
        "host": "127.0.0.1",
        "port": chroma.port,
        "collection": f"load-{uuid.uuid4().hex[:8]}",
    }
    with serve(NewsSite()) as site:
        seed = root / "seed"
        config = {
            "data_dir": str(seed),
            "store": store,
            "state": state or default_url(root / "state.sqlite"),  # holds the feed list too
            "fetch": {"allow_private": True, "backoff_s": 0},
        }
        (root / "seed.yaml").write_text(yaml.safe_dump(config))
        for command in (
            ["ingest", str(SAMPLE)],
            ["feeds", "follow", f"{site.base}/feeds/rss.xml"],
            ["feeds", "refresh"],
        ):
            subprocess.run(
                [_newsbot(), *command, "--config", str(root / "seed.yaml")],
                check=True,
                capture_output=True,
            )
        config |= {
            "feeds": {"refresh_minutes": args.refresh_s / 60},
            "answer": {"mode": "extractive"},
            "logging": {"level": args.log_level},
            "telegram": {"questions_per_minute": 600, "alert_check_s": 1, "alert_retry_s": 1},
        }
        emulator = TelegramEmulator().start(free_port())
        lb = RoundRobin([])
        replicas: list[Replica] = []
        try:
            for i in range(count):
                data_dir = root / f"replica-{i}" / "data"
                data_dir.mkdir(parents=True)
                replica_config = {**config, "data_dir": str(data_dir)}
                replicas.append(
                    Replica(root / f"replica-{i}" / "run", replica_config, emulator, lb.url)
                )
                lb.ports.append(replicas[-1].port)
            for replica in replicas:
                emulator.wait_for(replica.ready, 240, interval=0.5, description="a replica")
            _progress(f"{count} ready")
            watchers = [800_000 + i for i in range(args.watchers)]
            for chat in watchers:
                for words in WATCHES:
                    sent = emulator.send_command(f"/watch {words}", user_id=chat)
                    emulator.wait_for_bot_message(
                        chat, lambda m: "saved" in m["text"], after_message_id=sent["message_id"]
                    )
            _progress(f"{len(watchers)} watching")
            publisher = _Publisher(site, args.publish_s)
            started = time.perf_counter()
            turns = asyncio.run(_drive(args, emulator))
            wall = time.perf_counter() - started
            publisher.stop()
            _progress(f"{sum(t.seconds is not None for t in turns)} of {len(turns)} answered")
            time.sleep(args.refresh_s * 2 + 5)  # the last article: refreshed, planned, sent
            duplicates = _duplicate_answers(emulator, turns)
            alerts, duplicate_alerts = _alerts(emulator, watchers)
        finally:
            for replica in replicas:
                replica.stop()
            lb.close()
            emulator.stop()
        if args.keep_logs:
            for i, r in enumerate(replicas):
                kept = args.keep_logs / f"{root.name}-{i}.log"
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(r.log_file, kept)
        errors = sum(
            line.count(" ERROR ") + line.count("Traceback")
            for r in replicas
            for line in r.output().splitlines()
        )
    return Run(name, turns, wall, duplicates, alerts, duplicate_alerts, publisher.published, errors)


class _Publisher:
    """Puts a new article on the site's feed every `every_s`: a ferry's, then a market's."""

    def __init__(self, site: NewsSite, every_s: float) -> None:
        self.site = site
        self.every_s = every_s
        self.published = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            n = self.published + 1
            story, name = (FRESH, "Glowworm") if n % 2 else (MARKET, "fish market")
            self.site.publish(
                Story(
                    f"{story.slug}-{n}",
                    f"{story.title}, number {n}",
                    time.strftime("%Y-%m-%d"),
                    story.author,
                    tuple(p.replace(name, f"{name} {n}") for p in story.paragraphs),
                )
            )
            self.published = n

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def _drive(args: argparse.Namespace, emulator: TelegramEmulator) -> list[Turn]:
    """Every chat asks in turn (groups two at once) and opens each answer's Sources."""
    rng = random.Random(args.seed)
    waiting: dict[int, tuple[int, asyncio.Future[dict[str, Any]]]] = {}  # message id -> chat
    turns: list[Turn] = []
    limits = httpx.Limits(max_connections=args.chats + 20)
    async with httpx.AsyncClient(base_url=emulator.api_base, timeout=60, limits=limits) as http:

        async def call(path: str, **payload: Any) -> Any:
            response = await http.post(path, json={"token": emulator.token, **payload})
            response.raise_for_status()
            return response.json()["result"]

        async def history(chat_id: int) -> list[dict[str, Any]]:
            return list((await call("/emulator/history", chat_id=chat_id))["messages"])

        async def ask(chat_id: int, user_id: int, group: bool) -> Turn:
            question, expect = rng.choice(QUESTIONS)
            turn = Turn(chat_id, question, expect)
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            where = {
                "chat_id": chat_id,
                "chat_type": "group",
                "chat_title": "Desk",
                "mention": True,
            }
            began = time.perf_counter()
            sent = await call(
                "/sendMessage", text=question, user_id=user_id, **(where if group else {})
            )
            turn.message_id = sent["message"]["message_id"]
            waiting[turn.message_id] = (chat_id, future)
            try:
                turn.answer = await asyncio.wait_for(future, args.timeout)
                turn.seconds = time.perf_counter() - began
            except TimeoutError:
                waiting.pop(turn.message_id, None)
            turns.append(turn)
            return turn

        async def open_sources(turn: Turn, user_id: int) -> None:
            buttons = [
                b
                for row in turn.answer.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            ]
            if not buttons:
                return
            mark = max(m["message_id"] for m in await history(turn.chat_id))
            await call(
                "/sendCallback",
                chat_id=turn.chat_id,
                message_id=turn.answer["message_id"],
                data=buttons[0]["callback_data"],
                user_id=user_id,
            )
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                for m in await history(turn.chat_id):
                    if m["message_id"] > mark and m.get("text", "").startswith("Source 1 of"):
                        turn.sources = m
                        return
                await asyncio.sleep(0.2)

        async def chat(index: int, start: float) -> None:
            await asyncio.sleep(start)
            group = index % 2 == 1
            chat_id = -(700_000 + index) if group else 700_000 + index
            users = [710_000 + 2 * index, 710_001 + 2 * index] if group else [chat_id]
            left = args.questions
            while left > 0:
                askers = users[: min(len(users), left)]
                asked = await asyncio.gather(*(ask(chat_id, u, group) for u in askers))
                left -= len(askers)
                for turn, user in zip(asked, askers, strict=True):
                    if turn.seconds is not None:
                        await open_sources(turn, user)
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))

        async def check(chat_id: int, ids: dict[int, asyncio.Future[dict[str, Any]]]) -> None:
            for m in await history(chat_id):
                future = ids.get(m.get("reply_to_message", {}).get("message_id", 0))
                if future is not None and not future.done() and m["from"]["is_bot"]:
                    future.set_result(m)

        async def poll() -> None:
            while True:  # one history request per chat that waits, every round
                by_chat: dict[int, dict[int, asyncio.Future[dict[str, Any]]]] = {}
                for message_id, (chat_id, future) in list(waiting.items()):
                    if future.done():
                        waiting.pop(message_id, None)
                    else:
                        by_chat.setdefault(chat_id, {})[message_id] = future
                await asyncio.gather(*(check(c, ids) for c, ids in by_chat.items()))
                await asyncio.sleep(_POLL_S)

        poller = asyncio.create_task(poll())
        await asyncio.gather(*(chat(i, rng.uniform(0, args.ramp)) for i in range(args.chats)))
        poller.cancel()
    return turns


def _same_quotes(turn: Turn) -> bool:
    """Whether the Sources page quotes what the answer quoted (its own citations)."""
    assert turn.sources is not None
    answer = " ".join(turn.answer.get("text", "").split())
    quotes = [" ".join(q.split()).strip("\u2026 ")[:50] for q in _quotes(turn.sources)]
    return bool(quotes) and all(q in answer for q in quotes)


def _quotes(message: dict[str, Any]) -> list[str]:
    """The blockquotes of a message (entity offsets count UTF-16 code units, as Telegram's)."""
    text = message.get("text", "").encode("utf-16-le")
    return [
        text[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.get("entities", [])
        if e["type"] == "blockquote"
    ]


def _duplicate_answers(emulator: TelegramEmulator, turns: list[Turn]) -> int:
    """Replies beyond the first to any question, counted in the chats' final histories."""
    replies: dict[int, int] = {}
    for chat_id in {t.chat_id for t in turns}:
        for m in emulator.bot_messages(chat_id):
            asked = m.get("reply_to_message", {}).get("message_id")
            if asked is not None:
                replies[asked] = replies.get(asked, 0) + 1
    return sum(max(0, replies.get(t.message_id, 0) - 1) for t in turns)


def _alerts(emulator: TelegramEmulator, watchers: list[int]) -> tuple[int, int]:
    """Alerts the watchers got, and how many of them repeated an article already alerted."""
    total = duplicates = 0
    for chat_id in watchers:
        seen: set[str] = set()
        for m in emulator.bot_messages(chat_id):
            lines = m.get("text", "").splitlines()
            if not lines or not lines[0].startswith("\U0001f514 Watch") or len(lines) < 2:
                continue
            total += 1
            duplicates += lines[1] in seen
            seen.add(lines[1])
    return total, duplicates


def _progress(what: str) -> None:
    print(f"   {time.strftime('%H:%M:%S')} {what}", flush=True)


def _newsbot() -> str:
    script = shutil.which("newsbot", path=str(Path(sys.executable).parent))
    if script is None:
        sys.exit("newsbot is not installed in this Python's environment")
    return script


def _print(args: argparse.Namespace, baseline: Run, replicas: Run) -> None:
    """The figures of both runs side by side, and the ratios."""

    def ms(run: Run, p: int) -> float:
        return percentile(run.seconds(), p) * 1000

    rows: list[tuple[str, Any, Any]] = [
        ("questions asked", len(baseline.turns), len(replicas.turns)),
        ("lost turns (no answer)", baseline.lost(), replicas.lost()),
        ("duplicate answers", baseline.duplicate_answers, replicas.duplicate_answers),
        ("wrong Sources", baseline.wrong_sources(), replicas.wrong_sources()),
        ("Sources not opened", baseline.unopened_sources(), replicas.unopened_sources()),
        ("answers without the expected word", baseline.off_answers(), replicas.off_answers()),
        ("articles published meanwhile", baseline.published, replicas.published),
        ("alerts delivered", baseline.alerts, replicas.alerts),
        ("duplicate alerts", baseline.duplicate_alerts, replicas.duplicate_alerts),
        ("question -> answer p50 (ms)", f"{ms(baseline, 50):.0f}", f"{ms(replicas, 50):.0f}"),
        ("question -> answer p95 (ms)", f"{ms(baseline, 95):.0f}", f"{ms(replicas, 95):.0f}"),
        (
            "question -> answer max (ms)",
            f"{max(baseline.seconds(), default=0) * 1000:.0f}",
            f"{max(replicas.seconds(), default=0) * 1000:.0f}",
        ),
        (
            "answers/s",
            f"{len(baseline.seconds()) / baseline.wall_s:.1f}",
            f"{len(replicas.seconds()) / replicas.wall_s:.1f}",
        ),
        ("log ERROR/Traceback lines", baseline.errors, replicas.errors),
    ]
    groups = args.chats // 2
    print(
        f"\nreplicas load benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}): {args.chats} chats ({groups} groups, two "
        f"users asking at once) x {args.questions} questions, think {args.think} s, "
        f"{args.watchers} watchers, an article every {args.publish_s:g} s, "
        f"refresh every {args.refresh_s:g} s"
    )
    print(f"  {'':<36}  {baseline.name:>22}  {replicas.name:>22}")
    for label, base, rep in rows:
        print(f"  {label:<36}  {base!s:>22}  {rep!s:>22}")
    for p in (50, 95):
        ratio = ms(replicas, p) / max(ms(baseline, p), 1e-9)
        print(f"  p{p} ratio (replicas / baseline)       {ratio:.2f}x")
    for run in (baseline, replicas):
        for example in _examples(run):
            print(f"  {run.name}: {example}")


def _examples(run: Run) -> list[str]:
    """A few turns that went wrong, to look at."""
    shown = []
    for turn in run.turns:
        if turn.seconds is None:
            shown.append(f"lost: chat {turn.chat_id} message {turn.message_id}: {turn.question}")
        elif turn.sources is not None and not _same_quotes(turn):
            page = " ".join(turn.sources["text"].split())[:200]
            shown.append(f"wrong Sources: {turn.question} -> {page}")
    return shown[:3]


if __name__ == "__main__":
    main()
