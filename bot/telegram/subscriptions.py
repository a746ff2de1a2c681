"""What chats follow: watches, the alerts already sent, and digest schedules.

They live in the shared state file beside the chats (shared.py), so every replica sees
the same watches, and the claims that make things happen once are single SQLite
statements: an alert is claimed with `INSERT OR IGNORE` on (chat, article) before it is
sent, and a scheduled digest by moving its due time on only if nobody moved it first.
"""

import time
from dataclasses import dataclass

import numpy as np

from bot.telegram.shared import SessionStore

KEEP_ALERTED_S = 30 * 86400
_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    chat_id INTEGER NOT NULL, number INTEGER NOT NULL, words TEXT NOT NULL,
    vector BLOB, model TEXT, created REAL NOT NULL, PRIMARY KEY (chat_id, number));
CREATE TABLE IF NOT EXISTS alerted (
    chat_id INTEGER NOT NULL, article_id TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (chat_id, article_id));
CREATE TABLE IF NOT EXISTS digests (
    chat_id INTEGER PRIMARY KEY, daily TEXT, due REAL, last_sent REAL,
    page_since REAL, page_until REAL, page_shown INTEGER);
"""


@dataclass(frozen=True)
class Watch:
    """One chat's watch: its number in the chat, its words, and their vector if embedded."""

    chat_id: int
    number: int
    words: str
    vector: np.ndarray | None = None
    model: str | None = None


@dataclass(frozen=True)
class DigestState:
    """A chat's digest: its daily time, when it is next due, and the last one's window."""

    daily: str | None = None
    due: float | None = None
    last_sent: float | None = None
    page_since: float | None = None
    page_until: float | None = None
    page_shown: int = 0


class Subscriptions:
    """Watches, alert claims and digest schedules in the shared SQLite file."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions
        with sessions.transaction() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)

    def add_watch(self, chat_id: int, words: str, limit: int) -> int | None:
        """Save a watch; its number in the chat, or None when the chat has `limit` already."""
        with self.sessions.transaction() as db:
            count, highest = db.execute(
                "SELECT COUNT(*), COALESCE(MAX(number), 0) FROM watches WHERE chat_id = ?",
                (chat_id,),
            ).fetchone()
            if count >= limit:
                return None
            db.execute(
                "INSERT INTO watches (chat_id, number, words, created) VALUES (?, ?, ?, ?)",
                (chat_id, highest + 1, words, time.time()),
            )
            return int(highest) + 1

    def watches(self, chat_id: int | None = None) -> list[Watch]:
        """One chat's watches by number, or every chat's."""
        sql = "SELECT chat_id, number, words, vector, model FROM watches"
        rows = (
            self.sessions.query(sql + " WHERE chat_id = ? ORDER BY number", (chat_id,))
            if chat_id is not None
            else self.sessions.query(sql + " ORDER BY chat_id, number")
        )
        return [
            Watch(c, n, w, np.frombuffer(v, dtype=np.float32) if v else None, m)
            for c, n, w, v, m in rows
        ]

    def remove_watch(self, chat_id: int, number: int) -> str | None:
        """Delete a watch; its words, or None when the chat has no such watch."""
        with self.sessions.transaction() as db:
            row = db.execute(
                "DELETE FROM watches WHERE chat_id = ? AND number = ? RETURNING words",
                (chat_id, number),
            ).fetchone()
        return row[0] if row else None

    def store_vectors(self, watches: list[Watch], vectors: list[np.ndarray], model: str) -> None:
        """Keep the watches' embeddings, so they are embedded once per model."""
        with self.sessions.transaction() as db:
            db.executemany(
                "UPDATE watches SET vector = ?, model = ? WHERE chat_id = ? AND number = ?",
                [
                    (np.asarray(v, dtype=np.float32).tobytes(), model, w.chat_id, w.number)
                    for w, v in zip(watches, vectors, strict=True)
                ],
            )

    def claim_alerts(self, chat_id: int, article_ids: list[str]) -> set[str]:
        """Mark articles alerted to a chat; the ones nobody had claimed before.

        Claims older than `KEEP_ALERTED_S` are forgotten: an article is new only once.
        """
        now, claimed = time.time(), set()
        with self.sessions.transaction() as db:
            db.execute("DELETE FROM alerted WHERE at < ?", (now - KEEP_ALERTED_S,))
            for article_id in article_ids:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO alerted (chat_id, article_id, at) VALUES (?, ?, ?)",
                    (chat_id, article_id, now),
                )
                if cursor.rowcount:
                    claimed.add(article_id)
        return claimed

    def alerted_since(self, chat_id: int, since: float) -> list[str]:
        """The articles alerted to a chat since a moment."""
        rows = self.sessions.query(
            "SELECT article_id FROM alerted WHERE chat_id = ? AND at >= ?", (chat_id, since)
        )
        return [row[0] for row in rows]

    def drop_chat(self, chat_id: int) -> None:
        """Forget a chat's watches and digest (the bot was blocked or the chat deleted)."""
        with self.sessions.transaction() as db:
            db.execute("DELETE FROM watches WHERE chat_id = ?", (chat_id,))
            db.execute("DELETE FROM digests WHERE chat_id = ?", (chat_id,))

    def digest(self, chat_id: int) -> DigestState:
        """A chat's digest state (empty when it never had one)."""
        rows = self.sessions.query(
            "SELECT daily, due, last_sent, page_since, page_until, page_shown "
            "FROM digests WHERE chat_id = ?",
            (chat_id,),
        )
        if not rows:
            return DigestState()
        daily, due, last_sent, since, until, shown = rows[0]
        return DigestState(daily, due, last_sent, since, until, shown or 0)

    def schedule_digest(self, chat_id: int, daily: str | None, due: float | None) -> None:
        """Send a chat's digest every day at `daily` (HH:MM), first at `due`; None stops it."""
        with self.sessions.transaction() as db:
            db.execute(
                "INSERT INTO digests (chat_id, daily, due) VALUES (?, ?, ?) ON CONFLICT "
                "(chat_id) DO UPDATE SET daily = excluded.daily, due = excluded.due",
                (chat_id, daily, due),
            )

    def due_digests(self, now: float) -> list[tuple[int, str, float]]:
        """(chat, daily time, due) of the scheduled digests due by now."""
        rows = self.sessions.query(
            "SELECT chat_id, daily, due FROM digests WHERE due IS NOT NULL AND due <= ?", (now,)
        )
        return [(int(c), str(d), float(due)) for c, d, due in rows]

    def claim_digest(self, chat_id: int, due: float, next_due: float) -> bool:
        """Move a due digest on to `next_due`; True only for the one caller that did."""
        with self.sessions.transaction() as db:
            cursor = db.execute(
                "UPDATE digests SET due = ? WHERE chat_id = ? AND due = ?",
                (next_due, chat_id, due),
            )
        return cursor.rowcount == 1

    def digest_sent(self, chat_id: int, since: float, until: float, shown: int) -> None:
        """Record a digest sent to a chat: its window and how many stories it showed."""
        with self.sessions.transaction() as db:
            db.execute(
                "INSERT INTO digests (chat_id, last_sent, page_since, page_until, page_shown) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
                "last_sent = excluded.last_sent, page_since = excluded.page_since, "
                "page_until = excluded.page_until, page_shown = excluded.page_shown",
                (chat_id, until, since, until, shown),
            )

    def digest_more(self, chat_id: int, shown: int) -> None:
        """Record that the last digest's stories were shown up to `shown`."""
        with self.sessions.transaction() as db:
            db.execute("UPDATE digests SET page_shown = ? WHERE chat_id = ?", (shown, chat_id))
