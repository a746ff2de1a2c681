"""`newsbot telegram` end to end: the real console script, over real HTTP, against the emulator.

One bot process serves the whole module (loading the model costs seconds); each test uses
its own user and chat ids. The index holds the sample Haaretz article plus two crafted
articles: a long one (answers over 4096 characters) and one full of HTML-hostile text.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.emulator_client import BOT_USERNAME, TelegramEmulator
from harness.newsbot import (
    SAMPLE,
    NewsbotProcess,
    build_index,
    buttons,
    inject_failures,
    links,
    replies_to,
)

FAIL_ON = "EXPLODE-NOW"
PER_MINUTE = 5
SHALOM = "What did Shalom cite?"
MICHAELI = "Who is Ephraim Michaeli?"
ARMY_RADIO = "What did he tell Army Radio?"
REGATTA = "What happened at the Quillfeather lighthouse regatta?"
REGATTA_URL = "https://example.org/news/regatta?id=42&lang=en"
HOSTILE_TITLE = "Glimmerstone <b>council</b> & the <script> parser"
COUNCIL = "What did the Glimmerstone council decide about the parser?"
BRASS = "What did Councillor Brass warn about the Glimmerstone parser?"
APOLOGY = "Sorry, something went wrong"


def regatta_article() -> dict[str, str]:
    """Fourteen long sentences that all answer the same question: a 5,000-character answer."""
    sentences = [
        f"At the Quillfeather lighthouse regatta, crew number {i} reported that the harbour "
        "wind turned twice before noon, that the judges moved the marker buoys closer to the "
        "breakwater, that spectators on the pier counted more than a thousand sails, and that "
        "the organisers of the Quillfeather lighthouse regatta promised a longer course for "
        "next year while the fishermen's guild served soup to everyone waiting for the final "
        f"results near the old lighthouse keeper's cottage on the northern cliff, section {i}."
        for i in range(1, 15)
    ]
    return {
        "doc_id": "quillfeather-regatta",
        "title": "Quillfeather lighthouse regatta: a day of wind and sails",
        "date": "2023-02-10",
        "url": REGATTA_URL,
        "source": "Example Gazette",
        "text": "\n\n".join(sentences),
    }


def hostile_article() -> dict[str, str]:
    """Text that breaks Telegram HTML unless every piece is escaped."""
    return {
        "doc_id": "glimmerstone-parser",
        "title": HOSTILE_TITLE,
        "date": "2023-02-11",
        "url": "https://example.org/news/parser?a=1&b=2",
        "source": "Tag & Angle <Weekly>",
        "text": "The Glimmerstone council decided that a < b & c > d must hold in every "
        "<b>bold</b> parser test. Councillor Brass warned that <script>alert('x')</script> "
        "and &nbsp; or &amp; or </i> must never break the Glimmerstone parser. "
        "The weather was calm.",
    }


@pytest.fixture(scope="module")
def news_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the sample article and the two crafted ones."""
    root = tmp_path_factory.mktemp("telegram-news")
    crafted = root / "crafted.jsonl"
    crafted.write_text(
        "".join(json.dumps(a) + "\n" for a in (regatta_article(), hostile_article())), "utf-8"
    )
    return build_index(root / "data", SAMPLE, crafted)


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator, news_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    config = {
        "data_dir": str(news_dir),
        "retrieval": {"k": 10},
        "answer": {"max_sentences": 10},
        "telegram": {
            "questions_per_minute": PER_MINUTE,
            "heartbeat_file": str(heartbeat_file(news_dir)),
            "heartbeat_every_s": 1,
        },
    }
    # answering raises for questions with FAIL_ON, injected by the test (harness.newsbot)
    bot = NewsbotProcess(
        tmp_path_factory.mktemp("newsbot"), emulator, config, **inject_failures(FAIL_ON)
    )
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def heartbeat_file(news_dir: Path) -> Path:
    return news_dir.parent / "heartbeat"


def ask(emulator: TelegramEmulator, text: str, user_id: int, **kwargs: Any) -> dict[str, Any]:
    """Send a question and return the bot's reply to it."""
    sent = emulator.send_message(text, user_id=user_id, **kwargs)
    chat_id = kwargs.get("chat_id") or user_id
    return emulator.wait_for_bot_message(
        chat_id, lambda m: replies_to(m, sent), after_message_id=sent["message_id"], timeout=60
    )


def test_commands_are_registered_and_start_and_help_answer(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    assert [c["command"] for c in emulator.commands()] == [
        "start",
        "help",
        "sources",
        "reset",
        "stats",
        "watch",
        "watches",
        "unwatch",
        "digest",
    ]
    emulator.send_command("/start", user_id=1001)
    hello = emulator.wait_for_bot_message(1001)
    assert "I know 3 articles from 2004-09-06 to 2023-02-11." in hello["text"]
    emulator.send_command("/help", user_id=1001)
    usage = emulator.wait_for_bot_message(1001, after_message_id=hello["message_id"])
    assert "Examples" in usage["text"] and "/reset" in usage["text"]
    emulator.send_command("/stats", user_id=1001)
    stats = emulator.wait_for_bot_message(1001, after_message_id=usage["message_id"])
    assert "Articles: 3" in stats["text"] and "Dates: 2004-09-06 to 2023-02-11" in stats["text"]


def test_the_running_bot_touches_its_heartbeat_file(
    emulator: TelegramEmulator, newsbot: NewsbotProcess, news_dir: Path
) -> None:
    beat = heartbeat_file(news_dir)  # the first beat comes right after start-up
    emulator.wait_for(beat.exists, timeout=30, description="the first heartbeat")
    first = beat.stat().st_mtime_ns
    emulator.wait_for(
        lambda: beat.stat().st_mtime_ns > first, timeout=10, description="a later heartbeat"
    )


def test_question_gets_a_cited_answer_while_typing(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    reply = ask(emulator, SHALOM, 1101)
    assert "Dolphinarium nightclub suicide bombing" in reply["text"]
    assert "[1]" in reply["text"]
    assert [t for t, _ in buttons(reply)] == ["Sources"]
    timeline = emulator.timeline(1101)
    assert "typing" in timeline and timeline.index("typing") < timeline.index(reply["text"])


def test_sources_button_shows_the_cited_article_with_its_quotes(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    ask(emulator, REGATTA, 1201)
    answer = emulator.wait_for(lambda: [m for m in emulator.bot_messages(1201) if buttons(m)])[-1]
    emulator.press_button(1201, answer["message_id"], buttons(answer)[0][1], user_id=1201)
    pager = emulator.wait_for_bot_message(1201, after_message_id=answer["message_id"])
    # ten sentences of one article: one source (paging: tests/test_quoting_telegram.py)
    assert pager["text"].startswith("Source 1 of 1\n[1] Quillfeather lighthouse regatta")
    assert "Example Gazette · 2023-02-10" in pager["text"]
    assert pager["text"].count("crew number") > 1 and REGATTA_URL in links(pager)
    assert len(pager["text"].encode("utf-16-le")) // 2 <= 4096
    assert buttons(pager) == []

    emulator.send_command("/sources", user_id=1201)
    again = emulator.wait_for_bot_message(1201, after_message_id=pager["message_id"])
    assert again["text"].startswith("Source 1 of 1")


def test_long_answer_arrives_in_parts_under_the_limit(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    first = ask(emulator, REGATTA, 1301)
    last = emulator.wait_for_bot_message(1301, lambda m: bool(buttons(m)), timeout=60)
    parts = [
        m
        for m in emulator.bot_messages(1301)
        if first["message_id"] <= m["message_id"] <= last["message_id"]
    ]
    assert len(parts) >= 2
    assert all(len(p["text"].encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert [bool(buttons(p)) for p in parts] == [False] * (len(parts) - 1) + [True]
    text = " ".join(p["text"] for p in parts)
    assert text.count("] At the Quillfeather") == 9  # ten sentences of one article: all [1]
    assert "[2]" not in text and "[1] Example Gazette, 2023-02-10" in text
    for part in parts:  # cut between sentences, markers kept with their sentence
        body = part["text"].split("\n\n")[0]  # the last part ends with the dates
        assert body.startswith("At the Quillfeather") and body.endswith("]")
    assert sum(len(links(p)) for p in parts) == text.count("[1]") == 11
    assert {url for p in parts for url in links(p)} == {REGATTA_URL}


def test_html_hostile_article_is_answered_and_shown_escaped(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    reply = ask(emulator, COUNCIL, 1401)
    assert "a < b & c > d must hold in every <b>bold</b> parser test" in reply["text"]
    emulator.press_button(1401, reply["message_id"], buttons(reply)[0][1], user_id=1401)
    pager = emulator.wait_for_bot_message(1401, after_message_id=reply["message_id"])
    assert f"[1] {HOSTILE_TITLE}" in pager["text"]
    assert "Tag & Angle <Weekly> · 2023-02-11" in pager["text"]
    warning = ask(emulator, BRASS, 1401)
    assert "<script>alert('x')</script> and &nbsp; or &amp; or </i>" in warning["text"]
    assert "rejected our HTML" not in newsbot.output()  # no plain-text fallback was needed


def test_follow_up_uses_this_chats_history_only(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    # Sent back to back: the follow-up must wait for the first answer in the same chat.
    first = emulator.send_message(MICHAELI, user_id=1501)
    second = emulator.send_message(ARMY_RADIO, user_id=1501)
    follow_up = emulator.wait_for_bot_message(1501, lambda m: replies_to(m, second), timeout=60)
    assert emulator.wait_for_bot_message(1501, lambda m: replies_to(m, first))
    assert "Russians admire Israel" in follow_up["text"]
    assert "Ephraim Michaeli" in follow_up["text"]  # retrieved together with the first question

    fresh = ask(emulator, ARMY_RADIO, 1502)  # another chat: no history to lean on
    assert "Russians admire Israel" in fresh["text"] and "Michaeli" not in fresh["text"]

    emulator.send_command("/reset", user_id=1501)
    emulator.wait_for_bot_message(1501, lambda m: "forgotten" in m["text"])
    after_reset = ask(emulator, ARMY_RADIO, 1501)
    assert "Michaeli" not in after_reset["text"]


def test_group_answers_only_mentions_replies_and_commands(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    group = -1001600000001
    in_group: dict[str, Any] = {"chat_id": group, "chat_type": "supergroup"}
    emulator.send_message(SHALOM, user_id=1601, **in_group)
    emulator.send_message("@someone_else_bot what now?", user_id=1602, **in_group)
    mention = emulator.send_message(MICHAELI, user_id=1602, mention=True, **in_group)
    answer = emulator.wait_for_bot_message(group, timeout=60)
    assert replies_to(answer, mention) and "Ephraim Michaeli" in answer["text"]
    assert len(emulator.bot_messages(group)) == 1

    reply = ask(emulator, ARMY_RADIO, 1601, reply_to_message_id=answer["message_id"], **in_group)
    assert "Russians admire Israel" in reply["text"]
    emulator.send_command(f"/help@{BOT_USERNAME}", user_id=1601, **in_group)
    emulator.wait_for_bot_message(group, lambda m: "Examples" in m["text"])
    assert len(emulator.bot_messages(group)) == 3


def test_rate_limit_asks_the_user_to_slow_down(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    sent = [emulator.send_message(SHALOM, user_id=1701) for _ in range(PER_MINUTE + 3)]
    emulator.send_command("/help", user_id=1701)  # handled after all the questions, in order
    emulator.wait_for_bot_message(1701, lambda m: "Examples" in m["text"], timeout=60)
    replies = emulator.bot_messages(1701)[:-1]
    answered = [s for s in sent if any(replies_to(r, s) for r in replies)]
    assert answered == sent[:PER_MINUTE]
    slow_downs = [r for r in replies if "faster than I can answer" in r["text"]]
    assert len(slow_downs) == 1 and len(replies) == PER_MINUTE + 1


def test_twenty_chats_at_once_each_get_their_own_answer(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    cases = [(SHALOM, "Dolphinarium"), (MICHAELI, "military attache"), (COUNCIL, "a < b & c")]
    users = range(1801, 1821)
    sent = {
        user: emulator.send_message(cases[i % 3][0], user_id=user) for i, user in enumerate(users)
    }
    for i, user in enumerate(users):
        reply = emulator.wait_for_bot_message(
            user, after_message_id=sent[user]["message_id"], timeout=90
        )
        assert replies_to(reply, sent[user]) and cases[i % 3][1] in reply["text"]
        assert all(m["chat"]["id"] == user for m in emulator.messages(user))
        assert len(emulator.bot_messages(user)) == 1


def test_a_failure_while_answering_gets_an_apology_and_the_bot_goes_on(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    sorry = ask(emulator, f"What is {FAIL_ON}?", 1901)
    assert sorry["text"].startswith(APOLOGY)
    assert "Dolphinarium" in ask(emulator, SHALOM, 1901)["text"]
    log = newsbot.output()
    assert "Traceback" in log and "injected failure" in log


def test_sigterm_stops_the_bot_cleanly(newsbot: NewsbotProcess) -> None:
    assert newsbot.stop(signal.SIGTERM) == 0
    assert "bot.telegram.app: stopped" in newsbot.output()


def test_the_token_never_appears_in_logs(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    output = newsbot.output()
    secret = emulator.token.partition(":")[2]
    assert "httpx: HTTP Request: POST" in output  # request URLs were logged...
    assert "/bot[REDACTED]/getUpdates" in output  # ...with the token redacted
    assert emulator.token not in output and secret not in output
