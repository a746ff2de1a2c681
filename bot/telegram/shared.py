"""Chat state that survives a turn going to another replica.

Before any handler runs, `load_chat` copies the chat's saved state from the shared
`SessionStore` into `context.chat_data`; after the handlers, `save_chat` writes it
back. So whichever replica gets the next update continues the same conversation, and
Sources buttons work on every replica. Updates of one chat are ordered within a replica
(ordering.py); Telegram sends a webhook update only after the previous one was answered,
so two replicas rarely hold the same chat at once, and if they do the later save wins.
"""

import asyncio
from typing import Any

from telegram import Update

from bot.answer import Answer
from bot.conversation import Conversation, Turn
from bot.telegram.state import ChatData, Context


def chat_state(chat: ChatData) -> dict[str, Any]:
    """A chat's state as JSON-ready data."""
    turns = list(chat.conversation.turns) if chat.conversation is not None else []
    return {
        "turns": chat.turns,
        "refused": chat.refused,
        "answers": {str(n): a.model_dump(mode="json") for n, a in chat.answers.items()},
        "conversation": [
            {
                "question": t.question,
                "standalone": t.standalone,
                "answer": t.answer.model_dump(mode="json"),
            }
            for t in turns
        ],
    }


def restore_chat(chat: ChatData, state: dict[str, Any], history_turns: int) -> None:
    """Replace a chat's in-memory state with saved state."""
    chat.turns = int(state.get("turns", 0))
    chat.refused = bool(state.get("refused", False))
    chat.answers = {int(n): Answer.model_validate(a) for n, a in state["answers"].items()}
    conversation = Conversation(history_turns)
    for t in state.get("conversation", []):
        conversation.turns.append(
            Turn(t["question"], t["standalone"], Answer.model_validate(t["answer"]))
        )
    chat.conversation = conversation


async def load_chat(update: Update, context: Context) -> None:
    """Bring this chat's state in from the shared store (group -2: before everything)."""
    chat = update.effective_chat
    if chat is None or context.chat_data is None:
        return
    data = context.bot_data
    # off the loop: the store's lock may be held by a write waiting on another replica
    state = await asyncio.to_thread(data.sessions.load_chat, chat.id)
    if state is not None:
        restore_chat(context.chat_data, state, data.settings.answer.history_turns)


async def save_chat(update: Update, context: Context) -> None:
    """Write this chat's state back to the shared store (group 1: after the handlers)."""
    chat = update.effective_chat
    if chat is None or context.chat_data is None:
        return
    state = chat_state(context.chat_data)  # taken on the loop, written off it
    await asyncio.to_thread(context.bot_data.sessions.save_chat, chat.id, state)
