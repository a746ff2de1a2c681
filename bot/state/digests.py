"""Digest schedules in the shared state: when each chat's daily digest is next due.

A due digest is taken by moving its due time on only if nobody moved it first (one
UPDATE), so exactly one process sends it, and one due while every process was down
goes out when one starts.
"""

from dataclasses import dataclass

from sqlalchemy import select, update

from bot.state import tables
from bot.state.chats import StateStore, upsert


@dataclass(frozen=True)
class DigestState:
    """A chat's digest: its daily time, when it is next due, and the last one's window."""

    daily: str | None = None
    due: float | None = None
    last_sent: float | None = None
    page_since: float | None = None
    page_until: float | None = None
    page_shown: int = 0


class DigestSchedules:
    """Daily digest times, due moments and the last digest's window, per chat."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def digest(self, chat_id: int) -> DigestState:
        """A chat's digest state (empty when it never had one)."""
        d = tables.digests
        with self.store.engine.begin() as db:
            row = db.execute(
                select(
                    d.c.daily,
                    d.c.due,
                    d.c.last_sent,
                    d.c.page_since,
                    d.c.page_until,
                    d.c.page_shown,
                ).where(d.c.chat_id == chat_id)
            ).first()
        if row is None:
            return DigestState()
        daily, due, last_sent, since, until, shown = row
        return DigestState(daily, due, last_sent, since, until, shown or 0)

    def schedule_digest(self, chat_id: int, daily: str | None, due: float | None) -> None:
        """Send a chat's digest every day at `daily` (HH:MM), first at `due`; None stops it."""
        with self.store.transaction() as db:
            statement = upsert(db, tables.digests).values(chat_id=chat_id, daily=daily, due=due)
            db.execute(
                statement.on_conflict_do_update(
                    index_elements=["chat_id"],
                    set_={"daily": statement.excluded.daily, "due": statement.excluded.due},
                )
            )

    def due_digests(self, now: float) -> list[tuple[int, str, float]]:
        """(chat, daily time, due) of the scheduled digests due by now."""
        d = tables.digests
        with self.store.engine.begin() as db:
            rows = db.execute(
                select(d.c.chat_id, d.c.daily, d.c.due).where(d.c.due.is_not(None), d.c.due <= now)
            ).all()
        return [(int(c), str(daily), float(due)) for c, daily, due in rows]

    def claim_digest(self, chat_id: int, due: float, next_due: float) -> bool:
        """Move a due digest on to `next_due`; True only for the one caller that did."""
        d = tables.digests
        with self.store.transaction() as db:
            moved = db.execute(
                update(d).where(d.c.chat_id == chat_id, d.c.due == due).values(due=next_due)
            )
        return moved.rowcount == 1

    def digest_sent(self, chat_id: int, since: float, until: float, shown: int) -> None:
        """Record a digest sent to a chat: its window and how many stories it showed."""
        with self.store.transaction() as db:
            statement = upsert(db, tables.digests).values(
                chat_id=chat_id,
                last_sent=until,
                page_since=since,
                page_until=until,
                page_shown=shown,
            )
            db.execute(
                statement.on_conflict_do_update(
                    index_elements=["chat_id"],
                    set_={
                        "last_sent": statement.excluded.last_sent,
                        "page_since": statement.excluded.page_since,
                        "page_until": statement.excluded.page_until,
                        "page_shown": statement.excluded.page_shown,
                    },
                )
            )

    def digest_more(self, chat_id: int, shown: int) -> None:
        """Record that the last digest's stories were shown up to `shown`."""
        d = tables.digests
        with self.store.transaction() as db:
            db.execute(update(d).where(d.c.chat_id == chat_id).values(page_shown=shown))
