"""Chat state that survives a turn going to another replica: kept in the shared state.

Before any handler runs, `load_chat` copies the chat's saved state from the shared
state database (bot/state/) into `context.chat_data`; after the handlers, `save_chat`
writes it back. So whichever replica gets the next update continues the same
conversation, and Sources buttons work on every replica. Updates of one chat run one at
a time across replicas (ordering.py holds the chat's lease meanwhile), so no save
overwrites another's turn. When the database can't be reached, the update still gets
its answer: the turn starts without history, or its history isn't kept, with a log line.
"""

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update

from bot.answer import Answer
from bot.conversation import Conversation, Turn
from bot.telegram.state import ChatData, Context

log = logging.getLogger(__name__)


def chat_state(chat: ChatData) -> dict[str, Any]:
    """A chat's state as JSON-ready data."""
    return {
        "turns": chat.turns,
        "refused": chat.refused,
        "answers": {str(n): a.model_dump(mode="json") for n, a in chat.answers.items()},
        "pagers": {str(n): message_id for n, message_id in chat.pagers.items()},
        "conversations": {
            str(asker): [
                {
                    "question": t.question,
                    "standalone": t.standalone,
                    "answer": t.answer.model_dump(mode="json"),
                }
                for t in conversation.turns
            ]
            for asker, conversation in chat.conversations.items()
        },
    }


def restore_chat(
    chat: ChatData, state: dict[str, Any], history_turns: int, chat_id: int = 0
) -> None:
    """Replace a chat's in-memory state with saved state.

    State saved before conversations were kept per member has one "conversation"; it
    becomes the conversation of the chat's own id, which is the user's in a private chat.
    """
    chat.turns = int(state.get("turns", 0))
    chat.refused = bool(state.get("refused", False))
    chat.answers = {int(n): Answer.model_validate(a) for n, a in state["answers"].items()}
    chat.pagers = {int(n): int(m) for n, m in state.get("pagers", {}).items()}
    saved = state.get("conversations", {})
    if "conversation" in state:
        saved = {str(chat_id): state["conversation"], **saved}
    chat.conversations = {}
    for asker, turns in saved.items():
        conversation = Conversation(history_turns)
        for t in turns:
            conversation.turns.append(
                Turn(t["question"], t["standalone"], Answer.model_validate(t["answer"]))
            )
        chat.conversations[int(asker)] = conversation


async def load_chat(update: Update, context: Context) -> None:
    """Bring this chat's state in from the shared store (group -2: before everything)."""
    chat = update.effective_chat
    if chat is None or context.chat_data is None:
        return
    data = context.bot_data
    try:  # off the loop: a write may be waiting on another replica's
        state = await asyncio.to_thread(data.state.load_chat, chat.id)
    except SQLAlchemyError as exc:
        log.warning(
            "chat %s starts without its history: the state is unreachable (%s)",
            chat.id,
            type(exc).__name__,
        )
        return
    if state is not None:
        restore_chat(context.chat_data, state, data.settings.answer.history_turns, chat.id)


async def save_chat(update: Update, context: Context) -> None:
    """Write this chat's state back to the shared store (group 1: after the handlers)."""
    chat = update.effective_chat
    if chat is None or context.chat_data is None:
        return
    state = chat_state(context.chat_data)  # taken on the loop, written off it
    try:
        await asyncio.to_thread(context.bot_data.state.save_chat, chat.id, state)
    except SQLAlchemyError as exc:
        log.warning(
            "chat %s: this turn's history is lost: the state is unreachable (%s)",
            chat.id,
            type(exc).__name__,
        )
        return  # kept in memory instead, until the state is back
    # saved: the next update loads it again, so memory holds only the chats in flight
    context.application.drop_chat_data(chat.id)
