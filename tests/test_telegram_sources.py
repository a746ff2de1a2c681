"""News sources in `newsbot telegram`: the scheduled refresh and the admin commands.

The real console script runs against the emulator, with a news site on 127.0.0.1
(news_server.py); the SSRF guard is off for it (`fetch.allow_private`), since the
site is local. Feeds refresh every 1.2 s here, so the tests wait for outcomes, never
for a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.emulator_client import TelegramEmulator
from harness.news_server import ATOM_STORIES, FRESH, MARKET, STORIES, NewsSite, serve
from harness.newsbot import NewsbotProcess, links, replies_to

from bot.config import load_settings
from index.web.feed_list import feed_list

ADMIN = 2101
STRANGER = 2102
ADMIN_ONLY = "Sorry, only the bot's administrators can manage news sources."


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with serve(NewsSite()) as served:
        yield served


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator, site: NewsSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    """The bot with an empty index, following the site's RSS feed."""
    data_dir = tmp_path_factory.mktemp("sources") / "data"
    feed_list(load_settings(data_dir=data_dir)).add(site.base + "/feeds/rss.xml", "")
    config = {
        "data_dir": str(data_dir),
        "fetch": {"allow_private": True, "backoff_s": 0},
        "feeds": {"refresh_minutes": 0.02},
        "telegram": {"admin_user_ids": [ADMIN], "questions_per_minute": 600},
    }
    bot = NewsbotProcess(tmp_path_factory.mktemp("newsbot-sources"), emulator, config)
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def answer_with(
    emulator: TelegramEmulator, question: str, user_id: int, expected: str
) -> dict[str, Any]:
    """Ask until the answer contains `expected` (the bot picks articles up as it runs)."""

    def attempt() -> dict[str, Any] | None:
        sent = emulator.send_message(question, user_id=user_id)
        reply = emulator.wait_for_bot_message(
            user_id, lambda m: replies_to(m, sent), after_message_id=sent["message_id"], timeout=60
        )
        return reply if expected in reply["text"] else None

    return emulator.wait_for(attempt, timeout=120, interval=0.5, description=expected)


def command_result(
    emulator: TelegramEmulator, command: str, user_id: int, final: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send a command; its reply once it starts with `final`, and every bot reply since."""
    sent = emulator.send_command(command, user_id=user_id)
    reply = emulator.wait_for_bot_message(
        user_id,
        lambda m: replies_to(m, sent) and m["text"].startswith(final),
        after_message_id=sent["message_id"],
        timeout=120,
    )
    since = [m for m in emulator.bot_messages(user_id) if m["message_id"] > sent["message_id"]]
    return reply, since


def test_scheduled_refresh_makes_new_entries_answerable_and_alerts_watches(
    emulator: TelegramEmulator, site: NewsSite, newsbot: NewsbotProcess
) -> None:
    first = answer_with(emulator, "How many visitors came to the lantern festival?", 2001, "60,000")
    assert site.base + STORIES[1].path in links(first)

    watcher = 2005
    sent = emulator.send_command("/watch electric ferry", user_id=watcher)
    emulator.wait_for_bot_message(
        watcher, lambda m: m["text"].startswith("Watch 1"), after_message_id=sent["message_id"]
    )
    site.publish(FRESH)  # a new entry while the bot runs
    alert = emulator.wait_for_bot_message(  # sent by the scheduled refresh that ingests it
        watcher, lambda m: m["text"].startswith("\U0001f514"), timeout=120
    )
    assert FRESH.title in alert["text"] and site.base + FRESH.path in links(alert)
    fresh = answer_with(
        emulator, "How long does the Glowworm ferry take to charge?", 2001, "eleven minutes"
    )
    assert "[1]" in fresh["text"] and site.base + FRESH.path in links(fresh)
    assert len(site.requests_for(FRESH.path)) == 1  # fetched once: seen entries are skipped
    conditional = emulator.wait_for(
        lambda: [r for r in site.requests_for("/feeds/rss.xml") if r.status == 304],
        timeout=60,
        description="a refresh answered 304 Not Modified",
    )
    assert conditional[0].headers.get("if-none-match")
    assert len(site.requests_for(FRESH.path)) == 1


def test_source_commands_are_for_admins_only(
    emulator: TelegramEmulator, site: NewsSite, newsbot: NewsbotProcess
) -> None:
    for command in (f"/add {site.base}{MARKET.path}", "/feeds", "/refresh", "/unfollow 1"):
        reply, since = command_result(emulator, command, STRANGER, ADMIN_ONLY)
        assert reply["text"] == ADMIN_ONLY and len(since) == 1
    assert not site.requests_for(MARKET.path)


def test_admin_adds_a_page_and_it_is_answered_with_its_link(
    emulator: TelegramEmulator, site: NewsSite, newsbot: NewsbotProcess
) -> None:
    reply, since = command_result(emulator, f"/add {site.base}{MARKET.path}", ADMIN, "Ingested")
    assert reply["text"].startswith(f"Ingested “{MARKET.title}” (2024-03-18): 1 new")
    assert since == [reply]  # one message, edited from "Fetching…" to the result
    answer = answer_with(emulator, "Where will the old fish market move?", ADMIN, "south quay")
    assert site.base + MARKET.path in links(answer)


def test_admin_follows_lists_refreshes_and_unfollows_feeds(
    emulator: TelegramEmulator, site: NewsSite, newsbot: NewsbotProcess
) -> None:
    atom = f"{site.base}/feeds/atom.xml"
    reply, since = command_result(emulator, f"/add {atom}", ADMIN, "Following feed 2")
    assert reply["text"].splitlines()[:2] == [
        "Following feed 2: Tallowmere Science",
        "1 feed checked, 1 new entry: 1 new, 0 updated, 0 unchanged",
    ]
    assert since == [reply]
    comet = answer_with(emulator, "When will the comet pass closest to the sun?", ADMIN, "October")
    cited = links(comet)  # the Atom entry's own page, on the site
    assert cited and all(
        u.startswith(site.base) and u.endswith(ATOM_STORIES[0].path) for u in cited
    )

    # /refresh waits in the writer behind the first scheduled refresh; /feeds doesn't
    refreshed, since = command_result(emulator, "/refresh", ADMIN, "2 feeds checked")
    assert since == [refreshed] and ", 0 new entries" in refreshed["text"]

    listing, _ = command_result(emulator, "/feeds", ADMIN, "Followed feeds")
    assert f"1  Harbour Herald  {site.base}/feeds/rss.xml" in listing["text"]
    assert f"2  Tallowmere Science  {atom}" in listing["text"]

    removed, _ = command_result(emulator, "/unfollow 2", ADMIN, "Stopped following feed 2")
    assert "Its articles stay in the index." in removed["text"]
    gone, _ = command_result(emulator, "/unfollow 2", ADMIN, "Couldn't unfollow it")
    assert "no feed '2'" in gone["text"]

    missing, _ = command_result(emulator, f"/add {site.base}/missing", ADMIN, "Couldn't add")
    assert missing["text"] == f"Couldn't add {site.base}/missing: HTTP 404 Not Found"
    usage, _ = command_result(emulator, "/add", ADMIN, "Send /add")
    assert "RSS/Atom feed" in usage["text"]


def test_questions_are_answered_while_an_ingest_waits_on_a_slow_site(
    emulator: TelegramEmulator, site: NewsSite, newsbot: NewsbotProcess
) -> None:
    question, expected = "How many visitors came to the lantern festival?", "60,000"
    answer_with(emulator, question, 2003, expected)  # indexed before the site slows down
    fetched = len(site.requests_for(MARKET.path))
    site.slow_s = 20.0  # every /news/ page now takes 20 s to start
    try:
        sent = emulator.send_command(f"/add {site.base}{MARKET.path}", user_id=ADMIN)
        emulator.wait_for(
            lambda: len(site.requests_for(MARKET.path)) > fetched,
            timeout=60,
            description="the /add fetch to reach the slow site",
        )
        answer_with(emulator, question, 2003, expected)
        status = [m for m in emulator.bot_messages(ADMIN) if replies_to(m, sent)]
        assert status and status[-1]["text"].startswith("Fetching")  # the ingest still waits
    finally:
        site.slow_s = 0.0
    emulator.wait_for_bot_message(
        ADMIN,
        lambda m: replies_to(m, sent) and not m["text"].startswith("Fetching"),
        timeout=120,
    )


def test_refresh_problems_never_reach_the_log_as_tracebacks(newsbot: NewsbotProcess) -> None:
    log = newsbot.output()
    assert "scheduled feed refresh" in log
    assert "Traceback" not in log


def test_with_the_guard_on_chat_urls_to_private_addresses_are_refused(
    emulator: TelegramEmulator, site: NewsSite, tmp_path: Path
) -> None:
    # The default configuration: fetch.allow_private is false.
    requests_before = len(site.requests_for(MARKET.path))
    config = {"data_dir": str(tmp_path / "data"), "telegram": {"admin_user_ids": [ADMIN]}}
    with emulator.another_bot("7200000001:AAE-newsbot-guard-test-token") as emulator:
        bot = NewsbotProcess(tmp_path / "bot", emulator, config).wait_ready()
        try:
            url = site.base + MARKET.path
            reply, since = command_result(emulator, f"/add {url}", ADMIN, "Couldn't add")
            assert reply["text"] == (
                f"Couldn't add {url}: 127.0.0.1 resolves to the private or local address "
                "127.0.0.1; refused (set fetch.allow_private for trusted setups)"
            )
            assert since == [reply]
            local, _ = command_result(emulator, "/add file:///etc/passwd", ADMIN, "Couldn't add")
            assert local["text"].endswith("only http and https URLs can be fetched, not file:")
        finally:
            assert bot.stop() == 0
    assert len(site.requests_for(MARKET.path)) == requests_before  # refused before sending
