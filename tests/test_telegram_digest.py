"""Telegram's /digest as HTML, against the emulator (which parses the HTML strictly and
refuses a message over 4096 visible characters, as Telegram does).

The index holds the scraped-looking newsdesk articles (tests/data/newsdesk) and 24
made-up ones with long leads, so that one page of the digest is more than one message.
Each story's title is bold and links to its article, outlets link to theirs, no raw
URL is shown, no dateline, byline, credit or promo line is a digest line, a digest of
more than five stories starts with the most reported, and every story is sent.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness.emulator_client import TelegramEmulator
from harness.newsbot import NewsbotProcess, links, run_newsbot

from index.furniture import recognise

NEWSDESK = Path(__file__).parent / "data" / "newsdesk" / "articles.jsonl"
READER = 4101
WORDS = (
    "orchard tram glacier violin harbour copper quarry lantern tundra falcon marble "
    "sawmill comet cobbler parish meadow kiln beacon archive tannery vineyard reef "
    "foundry monastery canal observatory brewery weir lighthouse granary"
).split()


def made_up(n: int, rng: random.Random) -> dict[str, str]:
    """An article with a lead of about 450 characters, dated a week from the others (so
    that its words, alike theirs, don't make them one story)."""
    a, b, c = rng.sample(WORDS, 3)
    lead = (
        f"The {a} guild of Vesk{n} said on Monday that its {b} and {c} works would "
        + " ".join(f"{rng.choice(WORDS)}" for _ in range(55))
        + "."
    )
    return {
        "doc_id": f"made-up-{n}",
        "title": f"Vesk{n} {a} guild plans {b} works <{n}> & more",
        "date": (date(2025, 1, 1) + timedelta(days=7 * n)).isoformat(),
        "source": f"Vesk{n} Post",
        "url": f"https://vesk{n}.example/{a}-{b}?n={n}&x=1",
        "text": lead + "\n\nThe guild meets again next month.",
    }


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    workdir = tmp_path_factory.mktemp("telegram-digest")
    rng = random.Random(25)
    extra = workdir / "made-up.jsonl"
    extra.write_text("".join(json.dumps(made_up(n, rng)) + "\n" for n in range(24)), "utf-8")
    result = run_newsbot("ingest", str(NEWSDESK), str(extra), "--data-dir", "data", cwd=workdir)
    assert result.returncode == 0, result.stderr
    config = {"data_dir": str(workdir / "data"), "digest": {"max_stories": 40}}
    bot = NewsbotProcess(workdir / "bot", emulator, config)
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def digest_messages(emulator: TelegramEmulator) -> list[dict[str, Any]]:
    """Send /digest; the bot's messages up to the one that holds the last story."""
    sent = emulator.send_command("/digest", user_id=READER)
    after = sent["message_id"]
    first = emulator.wait_for_bot_message(READER, after_message_id=after, timeout=120)
    heading = re.match(r"(\d+) stories from ", first["text"])
    assert heading, first["text"]
    last = f"\n{heading.group(1)}. "
    emulator.wait_for_bot_message(
        READER, lambda m: last in "\n" + m["text"], after_message_id=after, timeout=120
    )
    return [m for m in emulator.bot_messages(READER) if m["message_id"] > after]


def test_digest_is_html_with_linked_bold_titles_in_messages_under_the_limit(
    newsbot: NewsbotProcess, emulator: TelegramEmulator
) -> None:
    messages = digest_messages(emulator)
    text = "\n\n".join(m["text"] for m in messages)
    assert re.match(r"\d+ stories from 29 articles since ", text), text[:200]
    # several messages, each within Telegram's limit (the emulator refuses longer ones,
    # and HTML it can't parse), cut between stories
    assert len(messages) >= 2, text
    assert all(len(m["text"].encode("utf-16-le")) // 2 <= 4096 for m in messages)
    assert all(re.match(r"\d+\. ", m["text"]) for m in messages[1:])
    assert "http" not in text  # links are on titles and outlets, not shown
    summary = text.split("\n\n")[1].splitlines()
    assert summary[0] == "Most reported:" and len(summary) == 6
    assert summary[1].endswith("(2 outlets)") and "212 passengers" in summary[1]
    assert "<7> & more" in text  # escaped, shown as written
    urls = {url for m in messages for url in links(m)}
    assert "https://vesk7.example/" in " ".join(urls)
    assert {"https://lakeshore.example/ferry-fire", "https://ap.example/harrowgate-ferry"} <= urls
    bold = [
        m["text"][e["offset"] : e["offset"] + e["length"]]
        for m in messages
        for e in m.get("entities", [])
        if e["type"] == "bold"
    ]
    assert "Orm Island council backs second ferry pier at Kettle Bay" in bold


def test_no_digest_line_is_furniture(newsbot: NewsbotProcess, emulator: TelegramEmulator) -> None:
    rows = [json.loads(line) for line in NEWSDESK.read_text("utf-8").splitlines()]
    furniture = {
        r["text"][s.start : s.end] for r in rows for s in recognise(r["text"], r["source"])
    }
    shown = {
        line.strip().strip("\u201c\u201d")
        for m in emulator.bot_messages(READER)
        for line in m["text"].splitlines()
    }
    assert shown, "the digest test runs first"
    assert not shown & furniture
    assert "The Orm Island council voted 5 to 4" in "\n".join(shown)
