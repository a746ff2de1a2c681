"""The Telegram front end's parts: splitting, HTML, the pager, redaction, ordering, delivery.

Delivery is checked against the emulator over real HTTP with a plain PTB `Bot`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from harness.emulator_client import TelegramEmulator
from telegram import Bot, Chat, Message, Update

from bot.answer import Answer, Citation
from bot.config import ConfigError
from bot.state import StateStore, default_url, open_database
from bot.telegram.app import DEFAULT_API_BASE, read_api_base, read_token
from bot.telegram.citations import page_markup, page_text, parse_callback, sources_button
from bot.telegram.delivery import reply_html, typing
from bot.telegram.formatting import (
    MAX_MESSAGE_LENGTH,
    answer_html,
    answer_parts,
    split_text,
    visible_length,
)
from bot.telegram.ordering import ChatOrderedProcessor
from bot.telegram.redaction import REDACTED, TokenFilter
from bot.telegram.streaming import FALLBACK_LABEL, final_parts, preview

T = TypeVar("T")
TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ_-0123"


def citation(n: int, **fields: Any) -> Citation:
    values = {
        "article_id": f"a{n}",
        "title": f"Title {n}",
        "snippet": f"Snippet {n}.",
        "score": 0.5,
        "start": 0,
        "end": 10,
    }
    return Citation(n=n, **(values | fields))


def sentence_answer(sentences: int, length: int = 300) -> str:
    return " ".join(f"Sentence {i} {'x' * (length - 20)} ends. [{i}]" for i in range(sentences))


# ------------------------------------------------------------------ splitting
def test_short_text_is_one_part() -> None:
    assert split_text("  One sentence. [1]  ") == ["One sentence. [1]"]


def test_parts_fit_and_end_after_a_sentence_and_its_marker() -> None:
    text = sentence_answer(40)
    parts = split_text(text, 4096)
    assert len(parts) == 4 and " ".join(parts) == text
    for part in parts:
        assert visible_length(part) <= 4096
        assert part is parts[-1] or visible_length(part) > 4096 - 310  # as full as it can be
        assert part.startswith("Sentence") and part.endswith("]")


def test_paragraph_boundaries_are_preferred() -> None:
    paragraph = "Words in a sentence. " * 60
    text = f"{paragraph.strip()}\n\n{paragraph.strip()}\n\n{paragraph.strip()}"
    parts = split_text(text, 3000)
    assert parts == [f"{paragraph.strip()}\n\n{paragraph.strip()}", paragraph.strip()]


def test_a_marker_just_past_the_limit_stays_with_its_sentence() -> None:
    text = "a" * 90 + ". [12] " + "b" * 50
    parts = split_text(text, 93)  # the limit falls inside "[12]"
    assert all(not p.startswith("[") for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")


def test_text_without_spaces_is_cut_hard_and_astral_characters_count_twice() -> None:
    assert [len(p) for p in split_text("x" * 10_000)] == [4096, 4096, 1808]
    emoji = "\U0001f600" * 3000  # 6000 UTF-16 units
    parts = split_text(emoji)
    assert [visible_length(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == emoji


def test_answer_parts_keep_links_whole() -> None:
    citations = [citation(i, url=f"https://news.example/{i}?a=1&b=2") for i in range(40)]
    parts = answer_parts(Answer(text=sentence_answer(40), citations=citations))
    assert len(parts) == 4
    for html, plain in parts:
        assert html.count("<a href=") == html.count("</a>") == plain.count("[")
        assert "&amp;b=2" in html and "&b=2" not in html


# ------------------------------------------------------------------ HTML
def test_a_long_streamed_answer_and_its_fallback_label_fit_telegram_messages() -> None:
    sentences = [f"Sentence {n} says R&D <costs> rose [1]." for n in range(400)]
    text = " ".join(sentences)
    assert visible_length(preview(text)) <= MAX_MESSAGE_LENGTH < visible_length(text)
    for mode, notice in (
        ("llm", None),
        ("extractive-fallback", "the model's answer was unsupported"),
    ):
        answer = Answer(text=text, citations=[citation(1)], mode=mode, notice=notice)
        parts = final_parts(answer)
        assert len(parts) > 1
        assert all(visible_length(plain) <= MAX_MESSAGE_LENGTH for _, plain in parts)
        assert all("<costs>" not in html and "&lt;costs&gt;" in html for html, _ in parts)
        assert parts[0][1].startswith(FALLBACK_LABEL) == (mode == "extractive-fallback")
        assert sentences[-1] in parts[-1][1]


def test_article_and_user_text_are_escaped() -> None:
    text = "a < b & c > d <b>bold</b> <script>x</script> &amp; [1] [2] [3]"
    citations = [
        citation(1, url='https://x.org/?q="<tag>"&z=1'),
        citation(2, url="javascript:alert(1)"),
        citation(3),
    ]
    assert answer_html(text, citations) == (
        "a &lt; b &amp; c &gt; d &lt;b&gt;bold&lt;/b&gt; &lt;script&gt;x&lt;/script&gt; "
        '&amp;amp; <a href="https://x.org/?q=&quot;&lt;tag&gt;&quot;&amp;z=1">[1]</a> [2] [3]'
    )


def test_source_page_escapes_title_details_and_snippet() -> None:
    hostile = citation(
        1,
        title="<b>T</b> & co",
        source="A&B <News>",
        date="2023-01-05T10:00",
        snippet="x < y",
        url="https://n.example/a",
    )
    html, plain = page_text([hostile, citation(2)], 1)
    assert html == (
        "<b>Source 1 of 2</b>\n"
        '<b>[1] <a href="https://n.example/a">&lt;b&gt;T&lt;/b&gt; &amp; co</a></b>\n'
        "<i>A&amp;B &lt;News&gt; · 2023-01-05</i>\n"
        "<blockquote>x &lt; y</blockquote>"
    )
    assert plain.splitlines() == [
        "Source 1 of 2",
        "[1] <b>T</b> & co",
        "A&B <News> · 2023-01-05",
        "“x < y”",
        "https://n.example/a",
    ]


def test_a_very_long_snippet_is_clipped_to_fit_one_message() -> None:
    _, plain = page_text([citation(1, snippet="word " * 5000, title="t" * 1000)], 1)
    assert visible_length(plain) < 4096 and plain.endswith("…”")


def test_callback_data_is_short_and_round_trips() -> None:
    markup = page_markup(10**12, 499, 500)
    assert markup is not None
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    data += [b.callback_data for row in sources_button(10**12).inline_keyboard for b in row]
    assert all(isinstance(d, str) and len(d.encode()) < 64 for d in data)
    requests = [parse_callback(str(d)) for d in data]
    assert [(r.key, r.page, r.opens_pager) for r in requests if r] == [
        (10**12, 498, False),
        (10**12, 500, False),
        (10**12, 1, True),
    ]
    assert parse_callback("shout") is None and page_markup(1, 1, 1) is None


# ------------------------------------------------------------------ token, API base, redaction
def test_token_and_api_base_are_validated_without_echoing_the_token() -> None:
    assert read_token({"TELEGRAM_BOT_TOKEN": f" {TOKEN}\n"}) == TOKEN
    for bad in ({}, {"TELEGRAM_BOT_TOKEN": "123:abc"}, {"TELEGRAM_BOT_TOKEN": "x" + TOKEN}):
        with pytest.raises(ConfigError) as caught:
            read_token(bad)
        assert "abc" not in str(caught.value) and TOKEN not in str(caught.value)
    assert read_api_base({}) == DEFAULT_API_BASE
    assert read_api_base({"TELEGRAM_API_BASE": "http://127.0.0.1:81/"}) == "http://127.0.0.1:81"
    with pytest.raises(ConfigError, match="TELEGRAM_API_BASE"):
        read_api_base({"TELEGRAM_API_BASE": "127.0.0.1:81"})


def test_token_filter_redacts_messages_arguments_and_tracebacks() -> None:
    token_filter = TokenFilter(TOKEN)
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, 'HTTP Request: %s "%s"', ("POST", "x"), None
    )
    record.args = ("POST", f"https://api.telegram.org/bot{TOKEN}/getMe")
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError as exc:
        record.exc_info = (RuntimeError, exc, exc.__traceback__)
    assert token_filter.filter(record)
    formatted = logging.Formatter().format(record)
    assert f"/bot{REDACTED}/getMe" in formatted and f"`{REDACTED}` was rejected" in formatted
    assert TOKEN not in formatted and TOKEN.partition(":")[2] not in formatted


def test_token_filter_redacts_the_webhook_secret_too() -> None:
    # At DEBUG, PTB logs each Bot API call's parameters; setWebhook's hold the secret.
    token_filter = TokenFilter(TOKEN, ["hook-secret_42", ""])
    record = logging.LogRecord(
        "telegram.ext.ExtBot",
        logging.DEBUG,
        __file__,
        1,
        "Calling Bot API endpoint `%s` with parameters `%s`",
        ("setWebhook", {"url": "https://bot.example.org/t", "secret_token": "hook-secret_42"}),
        None,
    )
    assert token_filter.filter(record)
    formatted = logging.Formatter().format(record)
    assert "hook-secret_42" not in formatted and f"'secret_token': '{REDACTED}'" in formatted


# ------------------------------------------------------------------ ordering
def update_in(chat_id: int, update_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, dt.datetime.now(dt.UTC), chat, text="q"))


def test_updates_run_in_order_within_a_chat_and_concurrently_across_chats(tmp_path: Path) -> None:
    state = StateStore(open_database(default_url(tmp_path / "state.sqlite")))

    async def main() -> list[str]:
        processor = ChatOrderedProcessor(state)
        events: list[str] = []
        release_a1 = asyncio.Event()

        async def work(name: str, wait: asyncio.Event | None = None) -> None:
            events.append(f"{name} start")
            if wait:
                await wait.wait()
            await asyncio.sleep(0)
            events.append(f"{name} end")

        async def b1_then_release() -> None:
            await work("b1")
            release_a1.set()  # b1 finished while a1 was still blocked: chats run concurrently

        tasks = [
            asyncio.create_task(processor.process_update(update_in(1, 1), work("a1", release_a1))),
            asyncio.create_task(processor.process_update(update_in(1, 2), work("a2"))),
            asyncio.create_task(processor.process_update(update_in(2, 3), b1_then_release())),
            asyncio.create_task(processor.process_update(update_in(1, 4), work("a3"))),
        ]
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert not processor._locks  # no lock is kept for idle chats
        return events

    events = asyncio.run(main())
    a_events = [e for e in events if e.startswith("a")]
    assert a_events == ["a1 start", "a1 end", "a2 start", "a2 end", "a3 start", "a3 end"]
    assert events.index("b1 end") < events.index("a1 end")


# ------------------------------------------------------------------ delivery, over HTTP
def with_bot(emulator: TelegramEmulator, action: Callable[[Bot], Awaitable[T]]) -> T:
    async def main() -> T:
        bot = Bot(
            emulator.token,
            base_url=f"{emulator.api_base}/bot",
            base_file_url=f"{emulator.api_base}/file/bot",
        )
        async with bot:
            return await action(bot)

    return asyncio.run(main())


def test_rejected_html_is_resent_as_plain_text(emulator: TelegramEmulator) -> None:
    question = emulator.send_message("q?", user_id=4001)

    async def send(bot: Bot) -> Message:
        message = Message.de_json(question, bot)
        return await reply_html(message, "<b>unclosed & broken", "plain & safe", quote=True)

    sent = with_bot(emulator, send)
    assert sent.text == "plain & safe" and not sent.entities
    assert [m["text"] for m in emulator.bot_messages(4001)] == ["plain & safe"]
    assert (
        emulator.bot_messages(4001)[0]["reply_to_message"]["message_id"] == question["message_id"]
    )


def test_typing_is_repeated_while_the_work_lasts(emulator: TelegramEmulator) -> None:
    async def work(bot: Bot) -> int:
        async with typing(bot, 4002, every_s=0.05):
            deadline = asyncio.get_running_loop().time() + 10
            while len(await asyncio.to_thread(emulator.chat_actions, 4002)) < 3:
                assert asyncio.get_running_loop().time() < deadline, "typing was not repeated"
                await asyncio.sleep(0.02)
        return len(emulator.chat_actions(4002))

    count = with_bot(emulator, work)
    assert count >= 3 and set(emulator.chat_actions(4002)) == {"typing"}
    with_bot(emulator, lambda bot: bot.send_message(4002, "done"))
    assert len(emulator.chat_actions(4002)) == count  # stopped with the block


def test_typing_comes_before_the_reply_even_when_the_work_is_instant(
    emulator: TelegramEmulator,
) -> None:
    async def work(bot: Bot) -> None:
        async with typing(bot, 4003):
            pass
        await bot.send_message(4003, "answer")

    with_bot(emulator, work)
    assert emulator.timeline(4003) == ["typing", "answer"]
