"""Watches, alerts and digests in `newsbot telegram`, against the emulator and a news site.

The real console script follows two feeds of a local news site (news_server.py): the
Harbour Herald's and the Coast Courier's, so one event can come from two outlets. An
admin's /refresh ingests what the feeds carry now; the tests publish stories in
between. Each chat's updates are handled in order, so once the admin's next command
is answered, the alerts of the refresh before it have all been sent: the tests wait
for outcomes, never for a time.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.emulator_client import TelegramEmulator
from harness.news_server import FRESH, MARKET, NewsSite, Story, serve
from harness.newsbot import NewsbotProcess, buttons, replies_to, run_newsbot

from bot.config import load_settings
from index.web.feed_list import feed_list

ADMIN = 3101
FERRY_FAN = 3102  # /watch electric ferries
MARKET_FAN = 3103  # /watch fish market
BUSY = 3104  # two watches, one alert allowed per refresh
GONE = 3105  # blocks the bot after setting a watch
GROUP = -3200  # a group watching the lantern festival
COAST_FERRY = Story(
    "glowworm-ferry-sails",
    "Battery ferry Glowworm starts carrying passengers across Tallowmere harbour",
    "2024-03-20",
    "Priya Nair",
    (
        "Tallowmere's first battery-powered ferry, the Glowworm, began carrying passengers "
        "across the harbour on Wednesday, with 340 people aboard on its first day.",
        "The ferry recharges at the quay in about eleven minutes while passengers board, "
        "its operator said, and three diesel ferries will be replaced by 2027.",
    ),
    outlet="Coast Courier",
)
MARKET_STRIKE = Story(
    "fish-market-strike",
    "Fish market traders strike over stall rents",
    "2024-03-21",
    "Tomas Berg",
    (
        "Traders at the Tallowmere fish market closed their stalls on Thursday in a strike "
        "over rents, which the harbour board plans to double from May.",
        "The board said the rents have not changed since 2009 and pay for the market's ice "
        "machines, which broke down twice last winter.",
    ),
)


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with serve(NewsSite()) as served:
        yield served


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("watches") / "data"


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator,
    site: NewsSite,
    data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NewsbotProcess]:
    """The bot with an empty index, following both feeds; refreshed only by /refresh."""
    feeds = feed_list(load_settings(data_dir=data_dir))
    feeds.add(site.base + "/feeds/rss.xml", "")
    feeds.add(site.base + "/feeds/coast.xml", "")
    config = {
        "data_dir": str(data_dir),
        "fetch": {"allow_private": True, "backoff_s": 0},
        "feeds": {"refresh_minutes": 0},
        "watch": {"max_alerts": 1},
        "digest": {"max_stories": 2},
        "telegram": {
            "admin_user_ids": [ADMIN],
            "questions_per_minute": 600,
            "digest_check_s": 0.5,
            "alert_check_s": 0.5,
            "alert_retry_s": 0.5,
            "timezone": "Europe/Oslo",
        },
    }
    bot = NewsbotProcess(tmp_path_factory.mktemp("newsbot-watches"), emulator, config)
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def command(
    emulator: TelegramEmulator, text: str, user_id: int, chat_id: int | None = None, **kw: Any
) -> dict[str, Any]:
    """Send a command and wait for the bot's reply to it."""
    chat = chat_id or user_id
    sent = emulator.send_command(text, user_id=user_id, chat_id=chat_id, **kw)
    return emulator.wait_for_bot_message(
        chat, lambda m: replies_to(m, sent), after_message_id=sent["message_id"], timeout=120
    )


def said(emulator: TelegramEmulator, text: str, user_id: int) -> str:
    """Send a command and return the bot's next message in the chat (sent, not a reply)."""
    sent = emulator.send_command(text, user_id=user_id)
    return str(
        emulator.wait_for_bot_message(user_id, after_message_id=sent["message_id"], timeout=120)[
            "text"
        ]
    )


def refresh(emulator: TelegramEmulator) -> str:
    """An admin's /refresh; returns once the bot is done with it, alerts included."""
    sent = emulator.send_command("/refresh", user_id=ADMIN)
    reply = emulator.wait_for_bot_message(
        ADMIN,
        lambda m: replies_to(m, sent) and "feeds checked" in m["text"],
        after_message_id=sent["message_id"],
        timeout=180,
    )
    command(emulator, "/watches", ADMIN)  # handled after /refresh's alerts were sent
    return str(reply["text"])


def alerts(emulator: TelegramEmulator, chat_id: int, after: int = 0) -> list[dict[str, Any]]:
    """The alerts a chat got after a message id."""
    return [
        m
        for m in emulator.bot_messages(chat_id)
        if m["message_id"] > after and m["text"].startswith(("\U0001f514", "\u2026and"))
    ]


def last_id(emulator: TelegramEmulator, chat_id: int) -> int:
    return max((m["message_id"] for m in emulator.messages(chat_id)), default=0)


@pytest.fixture(scope="module")
def refreshed(
    newsbot: NewsbotProcess, emulator: TelegramEmulator, site: NewsSite
) -> dict[str, Any]:
    """Watches set over the first stories, then three new stories, one event from two outlets."""
    first = refresh(emulator)
    assert "2 new" in first, first
    assert command(emulator, "/watch electric ferries", FERRY_FAN)["text"].startswith(
        "Watch 1 saved"
    )
    command(emulator, "/watch fish market", MARKET_FAN)
    command(emulator, "/watch electric ferries", BUSY)
    command(emulator, "/watch fish market", BUSY)
    command(emulator, "/watch electric ferries", GONE)
    group = dict(chat_type="group", chat_title="Lanterns")
    command(emulator, "/watch@newsbot_test_bot lantern festival", 3106, GROUP, **group)
    emulator.block_chat(GONE)
    marks = {chat: last_id(emulator, chat) for chat in (FERRY_FAN, MARKET_FAN, BUSY, GROUP)}
    for story in (FRESH, COAST_FERRY, MARKET):
        site.publish(story)
    report = refresh(emulator)
    return {"report": report, "marks": marks}


def test_a_watched_story_alerts_its_chat_once_with_its_outlets(
    refreshed: dict[str, Any], emulator: TelegramEmulator
) -> None:
    assert "3 new" in refreshed["report"], refreshed["report"]
    got = alerts(emulator, FERRY_FAN, refreshed["marks"][FERRY_FAN])
    assert len(got) == 1, [m["text"] for m in got]  # two outlets, one story, one alert
    text = got[0]["text"]
    assert text.startswith("\U0001f514 Watch 1: electric ferries")
    assert "2024-03-20" in text
    assert "Harbour Herald" in text and "Coast Courier" in text
    quoted = text.split("\u201c", 1)[1].rsplit("\u201d", 1)[0]
    assert quoted in FRESH.text + COAST_FERRY.text  # the sentence, exactly as written
    assert [label for label, _ in buttons(got[0])] == ["Ask about it"]
    linked = [e["url"] for e in got[0].get("entities", []) if e["type"] == "text_link"]
    assert any(url.endswith((FRESH.path, COAST_FERRY.path)) for url in linked)


def test_only_the_watching_chats_are_alerted(
    refreshed: dict[str, Any], emulator: TelegramEmulator
) -> None:
    market = alerts(emulator, MARKET_FAN, refreshed["marks"][MARKET_FAN])
    assert [m["text"].splitlines()[0] for m in market] == ["\U0001f514 Watch 1: fish market"]
    assert MARKET.title in market[0]["text"]
    assert f"\u201c{MARKET.paragraphs[0]}\u201d" in market[0]["text"]  # not the heading
    assert alerts(emulator, GROUP, refreshed["marks"][GROUP]) == []  # no lantern news
    assert alerts(emulator, ADMIN) == []  # no watches


def test_alerts_beyond_the_cap_become_and_n_more(
    refreshed: dict[str, Any], emulator: TelegramEmulator
) -> None:
    got = [m["text"] for m in alerts(emulator, BUSY, refreshed["marks"][BUSY])]
    assert len(got) == 2, got
    assert got[0].startswith("\U0001f514 Watch")
    assert got[1].startswith("\u2026and 1 more new story matches this chat's watches")


def test_a_chat_that_blocked_the_bot_is_dropped_quietly(
    refreshed: dict[str, Any], newsbot: NewsbotProcess, data_dir: Path
) -> None:
    assert "dropping the watches and digest of chat 3105" in newsbot.output()
    assert "Traceback" not in newsbot.output()
    with sqlite3.connect(data_dir / "telegram-state.sqlite") as connection:
        left = connection.execute("SELECT COUNT(*) FROM watches WHERE chat_id = ?", (GONE,))
        assert left.fetchone()[0] == 0


def test_a_refresh_with_nothing_new_alerts_nobody(
    refreshed: dict[str, Any], emulator: TelegramEmulator
) -> None:
    marks = {chat: last_id(emulator, chat) for chat in (FERRY_FAN, MARKET_FAN, BUSY)}
    assert "0 new entries" in refresh(emulator)
    assert all(alerts(emulator, chat, mark) == [] for chat, mark in marks.items())


def test_ask_about_it_answers_from_the_article(
    refreshed: dict[str, Any], emulator: TelegramEmulator
) -> None:
    alert = alerts(emulator, FERRY_FAN, refreshed["marks"][FERRY_FAN])[0]
    ((_, data),) = buttons(alert)
    emulator.press_button(FERRY_FAN, alert["message_id"], data, FERRY_FAN)
    answer = emulator.wait_for_bot_message(
        FERRY_FAN,
        lambda m: replies_to(m, alert) and not m["text"].startswith("\U0001f514"),
        timeout=120,
    )
    assert "Glowworm" in answer["text"]
    assert [label for label, _ in buttons(answer)] == ["Sources"]


def test_watches_are_listed_and_removed(
    refreshed: dict[str, Any], emulator: TelegramEmulator
) -> None:
    listed = command(emulator, "/watches", BUSY)["text"]
    assert "1. electric ferries" in listed and "2. fish market" in listed
    assert (
        command(emulator, "/unwatch 2", BUSY)["text"] == "Removed watch 2: \u201cfish market\u201d."
    )
    assert "fish market" not in command(emulator, "/watches", BUSY)["text"]
    assert "no watch 7" in command(emulator, "/unwatch 7", BUSY)["text"]
    assert command(emulator, "/watch", BUSY)["text"].startswith("Send /watch followed by")
    assert command(emulator, "/watch the of", BUSY)["text"].startswith("A watch needs a few words")


def test_help_lists_the_news_desk_commands(
    newsbot: NewsbotProcess, emulator: TelegramEmulator
) -> None:
    text = said(emulator, "/help", 3107)
    for name in ("/watch WORDS", "/watches", "/unwatch N", "/digest daily HH:MM", "/digest off"):
        assert name in text
    assert {"watch", "watches", "unwatch", "digest"} <= {c["command"] for c in emulator.commands()}


def test_digest_groups_one_event_from_two_outlets(
    refreshed: dict[str, Any], emulator: TelegramEmulator
) -> None:
    first = said(emulator, "/digest", MARKET_FAN)
    assert first.startswith("4 stories from 5 articles since "), first
    story = first.split("\n\n")[1]
    assert story.startswith("1. ") and "(2024-03-20)" in story
    assert "Harbour Herald, Coast Courier" in story or "Coast Courier, Harbour Herald" in story
    assert "http://" not in story  # HTML: the links are on the title and the outlets
    assert first.endswith("\u2026and 2 more stories: /digest more")
    more = said(emulator, "/digest more", MARKET_FAN)
    assert more.startswith("3. ") and "4. " in more and "more stories" not in more
    again = said(emulator, "/digest", MARKET_FAN)
    assert again.startswith("No new articles since "), again


def test_a_daily_digest_fires_once(
    refreshed: dict[str, Any], data_dir: Path, emulator: TelegramEmulator
) -> None:
    reply = said(emulator, "/digest daily 07:30", FERRY_FAN)
    assert reply.startswith("Daily digest set for 07:30 (Europe/Oslo); the first comes ")
    db = data_dir / "telegram-state.sqlite"
    with sqlite3.connect(db) as connection:
        (due,) = connection.execute(
            "SELECT due FROM digests WHERE chat_id = ?", (FERRY_FAN,)
        ).fetchone()
        assert time.localtime(due).tm_min == 30
        mark = last_id(emulator, FERRY_FAN)
        # the test's clock: the digest falls due now
        connection.execute(
            "UPDATE digests SET due = ? WHERE chat_id = ?", (time.time() - 1, FERRY_FAN)
        )
    sent = emulator.wait_for_bot_message(
        FERRY_FAN, lambda m: "stories from" in m["text"], after_message_id=mark, timeout=60
    )
    assert "Harbour Herald" in sent["text"]
    with sqlite3.connect(db) as connection:
        (following,) = connection.execute(
            "SELECT due FROM digests WHERE chat_id = ?", (FERRY_FAN,)
        ).fetchone()
    assert following > time.time() + 3600  # moved to the next 07:30, so it goes once
    assert said(emulator, "/digest off", FERRY_FAN).startswith("The daily digest is off")


def test_an_alert_that_fails_twice_goes_out_on_the_third_try(
    refreshed: dict[str, Any], newsbot: NewsbotProcess, emulator: TelegramEmulator, site: NewsSite
) -> None:
    other = 3107  # watches the market too, and must not wait for MARKET_FAN's retries
    command(emulator, "/watch fish market", other)
    mark, others = last_id(emulator, MARKET_FAN), last_id(emulator, other)
    emulator.fail_chat(MARKET_FAN, times=2)  # Telegram answers 500 twice
    site.publish(MARKET_STRIKE)
    assert "1 new" in refresh(emulator)
    got = emulator.wait_for_bot_message(
        MARKET_FAN, lambda m: "strike" in m["text"], after_message_id=mark, timeout=60
    )
    assert got["text"].startswith("\U0001f514")
    command(emulator, "/watches", ADMIN)  # give a stray fourth send time to show up
    assert len(alerts(emulator, MARKET_FAN, mark)) == 1
    assert ["strike" in m["text"] for m in alerts(emulator, other, others)] == [True]
    assert newsbot.output().count("an alert to chat 3103 failed") == 2
    assert "Traceback" not in newsbot.output()


LANTERN_TEXT = """Lantern festival fills Tallowmere harbour with 4,000 paper lanterns
By Ada Lind

Tallowmere's lantern festival drew about 30,000 people to the harbour on Saturday night, \
when 4,000 paper lanterns were floated from the north quay, the organisers said.
The festival, first held in 1961, raised money for the lifeboat station this year, and \
the harbour board kept the quays closed to traffic until midnight.
"""


def test_an_article_ingested_by_another_process_alerts_once(
    refreshed: dict[str, Any],
    newsbot: NewsbotProcess,
    emulator: TelegramEmulator,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    """`newsbot ingest` beside the running bot (as from cron): the watching group is told."""
    mark = last_id(emulator, GROUP)
    article = tmp_path / "lantern-festival.txt"
    article.write_text(LANTERN_TEXT, encoding="utf-8")
    config = tmp_path / "ingest.yaml"
    config.write_text(f"data_dir: {data_dir}\n", encoding="utf-8")
    done = run_newsbot("ingest", str(article), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = emulator.wait_for_bot_message(
        GROUP, lambda m: "lantern" in m["text"].lower(), after_message_id=mark, timeout=90
    )
    assert got["text"].startswith("\U0001f514 Watch 1: lantern festival")
    command(emulator, "/refresh", ADMIN)  # another ingest after it: no second alert
    command(emulator, "/watches", ADMIN)
    assert len(alerts(emulator, GROUP, mark)) == 1
