"""Chats in the shared state: their saved state, question counts, updates taken, leases.

Every operation is one short transaction, so nothing holds the database while an
answer is written. What must happen once across replicas is one atomic statement: an
update is taken by inserting its id (a second insert finds it there), a lease by an
upsert that only overwrites a lease that is free, expired or already ours.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from bot.state import tables

WINDOW_S = 60.0  # the rate limit's sliding window
KEEP_UPDATES_S = 86400.0  # Telegram gives up retrying an update within a day


def upsert(connection: Connection, table: Any) -> Any:
    """An INSERT with ON CONFLICT clauses, in the connection's dialect."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class StateStore:
    """The shared state database: chats, question counts, update claims and leases."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self, lock: int | None = None, durable: bool = False) -> Iterator[Connection]:
        """One transaction; with `lock`, serialised with others taking the same key.

        SQLite's transactions are all `BEGIN IMMEDIATE`, one writer at a time anyway;
        Postgres takes a transaction-scoped advisory lock on the key. `durable` makes a
        Postgres commit wait for the disk (database.py turns that off by default).
        """
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                if durable:
                    connection.execute(text("SET LOCAL synchronous_commit = on"))
                if lock is not None:
                    connection.execute(select(func.pg_advisory_xact_lock(lock)))
            yield connection

    def load_chat(self, chat_id: int) -> dict[str, Any] | None:
        """A chat's saved state, or None."""
        with self.engine.begin() as connection:
            state = connection.scalar(
                select(tables.chats.c.state).where(tables.chats.c.chat_id == chat_id)
            )
        return json.loads(state) if state is not None else None

    def save_chat(self, chat_id: int, state: dict[str, Any]) -> None:
        """Replace a chat's saved state."""
        with self.engine.begin() as connection:
            statement = upsert(connection, tables.chats).values(
                chat_id=chat_id, state=json.dumps(state, ensure_ascii=False)
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["chat_id"], set_={"state": statement.excluded.state}
                )
            )

    def take_question(self, user_id: int, per_minute: int, now: float | None = None) -> bool:
        """Count one question for a user unless they asked `per_minute` in the last minute."""
        now = time.time() if now is None else now
        q = tables.questions
        with self.transaction(lock=user_id) as connection:
            connection.execute(delete(q).where(q.c.at <= now - WINDOW_S))
            asked = connection.scalar(select(func.count()).where(q.c.user_id == user_id))
            if (asked or 0) >= per_minute:
                return False
            connection.execute(q.insert().values(user_id=user_id, at=now))
            return True

    def take_update(self, bot_id: int, update_id: int, now: float | None = None) -> bool:
        """Claim a bot's Telegram update; False when a replica took it before (a retry).

        Update ids count per bot, so a state kept across a change of token still takes
        the new bot's updates.
        """
        now = time.time() if now is None else now
        u = tables.updates
        with self.engine.begin() as connection:
            connection.execute(delete(u).where(u.c.at < now - KEEP_UPDATES_S))
            taken = connection.execute(
                upsert(connection, u)
                .values(bot_id=bot_id, update_id=update_id, at=now)
                .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
                .returning(u.c.update_id)
            )
            return taken.first() is not None

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold the lease `name` for `seconds` unless someone else holds it unexpired."""
        now = time.time()
        lease = tables.leases
        with self.engine.begin() as connection:
            statement = upsert(connection, lease).values(
                name=name, holder=holder, until=now + seconds
            )
            taken = connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["name"],
                    set_={"holder": statement.excluded.holder, "until": statement.excluded.until},
                    where=(lease.c.until < now) | (lease.c.holder == holder),
                ).returning(lease.c.name)
            )
            return taken.first() is not None

    def free_lease(self, name: str, holder: str) -> None:
        """Give a lease back (only if this holder still has it)."""
        lease = tables.leases
        with self.engine.begin() as connection:
            connection.execute(delete(lease).where(lease.c.name == name, lease.c.holder == holder))

    def ping(self) -> None:
        """One round trip: raises when the database can't be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
