"""A chat's state leaves memory once saved, and comes back when its next update arrives (#27).

The bot is built by `build_application` as `newsbot telegram` builds it, its state in a
real SQLite file; each update runs the real load and save handlers. No Bot API call is
made, so no emulator is needed. The chat's memory, PTB's `chat_data`, must be empty
after each update, while the chat's conversation survives into the next.
"""

import asyncio
from pathlib import Path

from telegram import Update
from telegram.ext import CallbackContext

from bot.answer import Answer
from bot.config import load_settings
from bot.telegram import shared
from bot.telegram.app import build_application

CHATS = 50


def message_update(chat_id: int, update_id: int, bot: object) -> Update:
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Reader"},
            "text": "What did Shalom cite?",
        },
    }
    return Update.de_json(data, bot)  # type: ignore[arg-type]


def test_saved_chats_leave_memory_and_come_back(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    application = build_application(settings, "123:test", "http://127.0.0.1:9")

    async def turn(chat_id: int, update_id: int) -> int:
        update = message_update(chat_id, update_id, application.bot)
        context = CallbackContext.from_update(update, application)
        await shared.load_chat(update, context)
        turns = context.chat_data.turns
        context.chat_data.remember(Answer(text=f"answer {update_id}"))
        await shared.save_chat(update, context)
        return turns

    async def run() -> None:
        for chat_id in range(1, CHATS + 1):
            assert await turn(chat_id, chat_id) == 0
        assert len(application.chat_data) == 0  # every saved chat was dropped from memory
        assert await turn(7, CHATS + 1) == 1  # ...and its next turn finds its history

    asyncio.run(run())
    application.bot_data.state.close()
