"""Chat state that survives a turn going to another replica, in one SQLite file.

`SessionStore` keeps every chat's state (conversations, answers behind Sources buttons,
open Sources cards) as JSON by chat id, and a sliding one-minute window of each user's
questions, in the file `telegram.state_file`, in a directory all replicas share. SQLite
in WAL mode lets readers run while one writer writes, and `BEGIN IMMEDIATE` makes the rate-limit
check-and-count atomic across processes. A shared directory must be a local disk or a
volume several containers mount on one host: SQLite's locking is not reliable over
NFS, so replicas on several hosts need a network store instead.

Before any handler runs, `load_chat` copies the chat's saved state from the shared
`SessionStore` into `context.chat_data`; after the handlers, `save_chat` writes it
back. So whichever replica gets the next update continues the same conversation, and
Sources buttons work on every replica. Updates of one chat are ordered within a replica
(ordering.py); Telegram sends a webhook update only after the previous one was answered,
so two replicas rarely hold the same chat at once, and if they do the later save wins.
"""

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from telegram import Update

from bot.answer import Answer
from bot.conversation import Conversation, Turn
from bot.telegram.state import ChatData, Context
from index.errors import DataDirError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (chat_id INTEGER PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS questions (user_id INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS questions_by_user ON questions (user_id, at);
"""
WINDOW_S = 60.0


class SessionStore:
    """Chat states as JSON by chat id, and a sliding one-minute window of questions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise DataDirError(
                f"can't open the shared bot state {path}: {exc}; set telegram.state_file "
                "to a writable file in a directory every replica shares"
            ) from None
        self._lock = threading.Lock()  # one connection, used from several threads

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The database inside one write transaction, atomic across replicas."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        """The rows of one read-only statement."""
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def load_chat(self, chat_id: int) -> dict[str, Any] | None:
        """A chat's saved state, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM chats WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def save_chat(self, chat_id: int, state: dict[str, Any]) -> None:
        """Replace a chat's saved state."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO chats (chat_id, state) VALUES (?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state",
                (chat_id, json.dumps(state, ensure_ascii=False)),
            )

    def take_question(self, user_id: int, per_minute: int, now: float | None = None) -> bool:
        """Count one question for a user unless they asked `per_minute` in the last minute."""
        now = time.time() if now is None else now
        with self.transaction() as db:
            db.execute("DELETE FROM questions WHERE at <= ?", (now - WINDOW_S,))
            (asked,) = db.execute(
                "SELECT COUNT(*) FROM questions WHERE user_id = ?", (user_id,)
            ).fetchone()
            if asked >= per_minute:
                return False
            db.execute("INSERT INTO questions (user_id, at) VALUES (?, ?)", (user_id, now))
            return True

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


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
    # off the loop: the store's lock may be held by a write waiting on another replica
    state = await asyncio.to_thread(data.sessions.load_chat, chat.id)
    if state is not None:
        restore_chat(context.chat_data, state, data.settings.answer.history_turns, chat.id)


async def save_chat(update: Update, context: Context) -> None:
    """Write this chat's state back to the shared store (group 1: after the handlers)."""
    chat = update.effective_chat
    if chat is None or context.chat_data is None:
        return
    state = chat_state(context.chat_data)  # taken on the loop, written off it
    await asyncio.to_thread(context.bot_data.sessions.save_chat, chat.id, state)
