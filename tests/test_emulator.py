"""The Telegram emulator harness against the real python-telegram-bot 22, over real HTTP."""

from __future__ import annotations

import asyncio
import html
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from functools import partial
from typing import Any, TypeVar

import httpx
import pytest
from harness.emulator_client import BOT_USERNAME, EmulatorError, TelegramEmulator
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

T = TypeVar("T")
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Shout", callback_data="shout")]])


class EchoBot:
    """A minimal PTB Application running with long polling in a background thread."""

    def __init__(self, api_base: str, token: str) -> None:
        self.app = (
            Application.builder()
            .token(token)
            .base_url(f"{api_base}/bot")
            .base_file_url(f"{api_base}/file/bot")
            .build()
        )
        self.app.add_handler(CommandHandler("start", self._start))
        self.app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self._echo))
        self.app.add_handler(CallbackQueryHandler(self._shout, pattern="^shout$"))
        self.app.add_error_handler(self._on_error)
        self.received: list[Update] = []
        self.errors: list[BaseException] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ptb-bot", daemon=True)

    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        self.received.append(update)
        await update.effective_message.reply_html("<b>Welcome</b> to the news bot")

    async def _echo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        self.received.append(update)
        await message.reply_chat_action(ChatAction.TYPING)
        await message.reply_html(f"<b>Echo:</b> {html.escape(message.text)}", reply_markup=KEYBOARD)

    async def _shout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and isinstance(query.message, Message)
        await query.answer("shouted")
        text = query.message.text or ""
        await query.edit_message_text(
            f"<i>{html.escape(text.upper())}</i>", parse_mode=ParseMode.HTML
        )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        self.errors.append(context.error)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        async with self.app:  # initialize() calls getMe; post_init only runs in run_polling()
            await self.app.bot.set_my_commands(
                [BotCommand("start", "Say hello"), BotCommand("help", "Usage")]
            )
            await self.app.start()
            assert self.app.updater is not None
            await self.app.updater.start_polling(timeout=5, poll_interval=0)
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            await self.app.updater.stop()
            await self.app.stop()

    def start(self, timeout: float = 20.0) -> None:
        """Start polling in the background thread and wait until it runs."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise AssertionError(f"PTB application did not start within {timeout}s")

    def call(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 10.0) -> T:
        """Run a coroutine (e.g. a Bot API call) on the bot's event loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop polling and shut the application down."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "PTB application did not stop"


@pytest.fixture(scope="module")
def bot(emulator: TelegramEmulator) -> Iterator[EchoBot]:
    echo = EchoBot(emulator.api_base, emulator.token)
    echo.start()
    yield echo
    echo.stop()


@pytest.fixture(autouse=True)
def _no_handler_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "bot" in request.fixturenames:
        echo: EchoBot = request.getfixturevalue("bot")
        assert not echo.errors, f"PTB handler errors: {echo.errors!r}"


def test_echo_with_html_typing_and_keyboard(emulator: TelegramEmulator, bot: EchoBot) -> None:
    sent = emulator.send_message("hello <world> & co", user_id=101, first_name="Ann")
    reply = emulator.wait_for_bot_message(101, after_message_id=sent["message_id"])
    assert reply["text"] == "Echo: hello <world> & co"
    assert reply["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    assert reply["chat"] == {"id": 101, "type": "private", "first_name": "Ann"}
    assert reply["from"]["username"] == BOT_USERNAME and reply["from"]["is_bot"] is True
    assert reply["reply_markup"] == KEYBOARD.to_dict()
    assert emulator.chat_actions(101) == ["typing"]


def test_button_press_edits_message(emulator: TelegramEmulator, bot: EchoBot) -> None:
    emulator.send_message("quiet please", user_id=102)
    reply = emulator.wait_for_bot_message(102)
    query = emulator.press_button(102, reply["message_id"], "shout", user_id=102)
    assert query["chat_instance"] and query["message"]["message_id"] == reply["message_id"]
    edited = emulator.wait_for_bot_message(102, lambda m: "edit_date" in m)
    assert edited["message_id"] == reply["message_id"]
    assert edited["text"] == "ECHO: QUIET PLEASE"
    assert edited["entities"] == [{"type": "italic", "offset": 0, "length": 18}]
    assert "reply_markup" not in edited  # editMessageText without reply_markup drops the keyboard
    assert len(emulator.bot_messages(102)) == 1
    answers = emulator.callback_answers()
    assert {"callback_query_id": query["id"], "text": "shouted", "show_alert": False} in answers


def test_commands_are_set_and_start_command_works(emulator: TelegramEmulator, bot: EchoBot) -> None:
    assert [c["command"] for c in emulator.commands()] == ["start", "help"]
    commands = bot.call(lambda: bot.app.bot.get_my_commands())
    assert [c.command for c in commands] == ["start", "help"]
    emulator.send_command("/start", user_id=103)
    welcome = emulator.wait_for_bot_message(103)
    assert welcome["text"] == "Welcome to the news bot"
    assert emulator.chat_actions(103) == []


def test_message_length_limit_counts_visible_utf16(
    emulator: TelegramEmulator, bot: EchoBot
) -> None:
    emulator.send_message("hi", user_id=104)
    emulator.wait_for_bot_message(104)
    send = bot.app.bot.send_message
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        bot.call(lambda: send(104, "x" * 5000))
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        bot.call(lambda: send(104, "\U0001f600" * 2049))  # 2049 characters, 4098 UTF-16 units
    ok = bot.call(
        lambda: send(104, "<b>" + "y" * 4093 + "</b>&amp;&lt;&gt;", parse_mode=ParseMode.HTML)
    )
    assert ok.text is not None and len(ok.text) == 4096
    first = emulator.bot_messages(104)[0]
    edit = bot.app.bot.edit_message_text
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        bot.call(lambda: edit("z" * 4097, chat_id=104, message_id=first["message_id"]))


def test_invalid_html_is_rejected(emulator: TelegramEmulator, bot: EchoBot) -> None:
    send = bot.app.bot.send_message
    for bad in ["<b>x", "<b><i>x</b></i>", "a < b", "Q&A", "<br>", "&nbsp;", "<span>s</span>"]:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            bot.call(partial(send, 105, bad, parse_mode=ParseMode.HTML))
    good = bot.call(
        lambda: send(
            105,
            '<a href="https://x.org/?a=1&amp;b=2">link</a> &#x27;q&#39;',
            parse_mode=ParseMode.HTML,
        )
    )
    assert good.text == "link 'q'"
    assert good.entities == (MessageEntity("text_link", 0, 4, url="https://x.org/?a=1&b=2"),)
    assert [m["text"] for m in emulator.bot_messages(105)] == ["link 'q'"]


def test_group_messages_with_mentions_and_replies(emulator: TelegramEmulator, bot: EchoBot) -> None:
    group = -1001234567890
    first = emulator.send_message(
        "what happened?",
        user_id=201,
        chat_id=group,
        chat_type="supergroup",
        first_name="Ann",
        mention=True,
    )
    reply = emulator.wait_for_bot_message(group)
    assert reply["chat"]["type"] == "supergroup"
    assert reply["reply_to_message"]["message_id"] == first["message_id"]  # PTB quotes in groups
    received = emulator.wait_for(
        lambda: [u for u in bot.received if u.effective_chat and u.effective_chat.id == group]
    )
    message = received[0].effective_message
    assert message is not None and message.from_user is not None and message.from_user.id == 201
    assert message.parse_entities([MessageEntity.MENTION]) == {
        MessageEntity(MessageEntity.MENTION, 0, len(BOT_USERNAME) + 1): f"@{BOT_USERNAME}"
    }
    # A second user answers the bot's message: the bot sees reply_to_message from itself.
    second = emulator.send_message(
        "and then?",
        user_id=202,
        chat_id=group,
        chat_type="supergroup",
        first_name="Bob",
        reply_to_message_id=reply["message_id"],
    )
    emulator.wait_for_bot_message(group, after_message_id=second["message_id"])
    update = emulator.wait_for(
        lambda: [
            u
            for u in bot.received
            if u.effective_message and u.effective_message.message_id == second["message_id"]
        ]
    )[0]
    assert update.effective_user is not None and update.effective_user.first_name == "Bob"
    replied_to = update.effective_message.reply_to_message  # type: ignore[union-attr]
    assert (
        replied_to is not None and replied_to.from_user is not None and replied_to.from_user.is_bot
    )
    # a command addressed to this bot in a group
    emulator.send_command(
        f"/start@{BOT_USERNAME}", user_id=202, chat_id=group, chat_type="supergroup"
    )
    emulator.wait_for_bot_message(group, lambda m: m["text"].startswith("Welcome"))


def test_get_updates_long_polls_and_confirms_offsets(emulator: TelegramEmulator) -> None:
    other = TelegramEmulator(token="555:other-bot")  # separate bot state, no PTB polling it
    url = f"{emulator.api_base}/bot{other.token}/getUpdates"
    with httpx.Client(timeout=10) as http:
        began = time.monotonic()
        assert http.post(url, data={"timeout": "1"}).json() == {"ok": True, "result": []}
        assert 0.9 <= time.monotonic() - began < 3
        msg = http.post(
            f"{emulator.api_base}/sendMessage",
            json={"token": other.token, "text": "ping", "user_id": 7},
        ).json()["result"]
        updates = http.post(url, data={"timeout": "5"}).json()["result"]
        assert [u["message"]["text"] for u in updates] == ["ping"]
        assert (
            http.post(url, data={"timeout": "0"}).json()["result"] == updates
        )  # not yet confirmed
        offset = str(updates[-1]["update_id"] + 1)
        began = time.monotonic()
        assert http.post(url, data={"timeout": "0", "offset": offset}).json()["result"] == []
        assert time.monotonic() - began < 0.5
        assert msg["message"]["message_id"] == updates[0]["message"]["message_id"]


@pytest.fixture
def other(emulator: TelegramEmulator) -> Iterator[TelegramEmulator]:
    """A client for a second bot token that no PTB application polls: tests read its updates."""
    with emulator.another_bot("556:document-bot") as client:
        yield client


def test_a_document_is_delivered_and_its_file_served(other: TelegramEmulator) -> None:
    content = b"%PDF-1.4 not really, but bytes all the same\n" * 10
    sent = other.send_document(
        content, "2023-01-05 report.pdf", user_id=8, caption="for you", mention=True
    )
    big = other.send_document(b"tiny", "huge.pdf", user_id=8, file_size=25 * 1024 * 1024)
    assert sent["caption"] == f"@{BOT_USERNAME} for you"
    assert sent["caption_entities"] == [
        {"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}
    ]
    ptb = Bot(
        other.token, base_url=f"{other.api_base}/bot", base_file_url=f"{other.api_base}/file/bot"
    )

    async def fetch() -> tuple[Message, bytes, BadRequest]:
        async with ptb:
            updates = await ptb.get_updates(timeout=5)
            message, huge = (u.message for u in updates)
            assert message is not None and message.document is not None
            assert huge is not None and huge.document is not None
            file = await message.document.get_file()
            data = bytes(await file.download_as_bytearray())
            with pytest.raises(BadRequest) as refused:
                await huge.document.get_file()
            return message, data, refused.value

    message, data, refused = asyncio.run(fetch())
    document = message.document
    assert document is not None and message.caption == sent["caption"]
    assert (document.file_name, document.mime_type, document.file_size) == (
        "2023-01-05 report.pdf",
        "application/pdf",
        len(content),
    )
    assert data == content
    assert refused.message == "File is too big"  # PTB capitalises "file is too big"
    assert big["document"]["file_size"] == 25 * 1024 * 1024
    assert other.file_requests() == [
        ("getFile", document.file_id),
        ("download", document.file_id),
        ("getFile", big["document"]["file_id"]),
    ]
    with pytest.raises(EmulatorError, match="file_size"):
        other.send_document(content, "small.pdf", user_id=8, file_size=3)


def test_a_blocked_chat_gets_403_from_every_method(
    emulator: TelegramEmulator, bot: EchoBot
) -> None:
    send = bot.app.bot.send_message
    before = bot.call(lambda: send(106, "still friends"))
    bot.call(lambda: send(107, "another chat"))
    emulator.block_chat(106)
    calls: list[Callable[[], Coroutine[Any, Any, Any]]] = [
        lambda: send(106, "hello?"),
        lambda: bot.app.bot.send_chat_action(106, ChatAction.TYPING),
        lambda: bot.app.bot.edit_message_text("edited", chat_id=106, message_id=before.message_id),
    ]
    for call in calls:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            bot.call(call)
    assert bot.call(lambda: send(107, "still works")).text == "still works"
    url = f"{emulator.api_base}/bot{emulator.token}/sendMessage"
    response = httpx.post(url, data={"chat_id": "106", "text": "raw"})
    assert response.status_code == 403
    assert response.json() == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    assert [m["text"] for m in emulator.bot_messages(106)] == ["still friends"]
