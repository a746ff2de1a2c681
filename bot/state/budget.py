"""A token bucket in the shared state: a rate every replica together keeps to.

Telegram allows a bot about 30 messages a second in all, however many processes send
them. Each send takes one token from the bucket's row; the row refills at `rate` a
second up to `capacity`. Taking is one short transaction that locks the row (Postgres:
SELECT … FOR UPDATE; SQLite: every transaction is `BEGIN IMMEDIATE`), so two replicas
never spend the same token. A caller without a token is told how long to wait.
"""

import time

from sqlalchemy import select, update

from bot.state import tables
from bot.state.chats import StateStore, upsert


class SendBudget:
    """One named bucket: `rate` tokens a second, at most `capacity` saved up."""

    def __init__(self, store: StateStore, name: str, rate: float, capacity: float) -> None:
        self.store = store
        self.name = name
        self.rate = rate
        self.capacity = capacity

    def take(self, now: float | None = None) -> float:
        """Take a token: 0.0 when taken, else the seconds to wait before trying again."""
        now = time.time() if now is None else now
        b = tables.buckets
        with self.store.transaction() as db:
            row = db.execute(
                select(b.c.tokens, b.c.at).where(b.c.name == self.name).with_for_update()
            ).first()
            if row is None:  # the first send ever; another replica's may be seeding it too
                seeded = db.execute(
                    upsert(db, b)
                    .values(name=self.name, tokens=self.capacity - 1, at=now)
                    .on_conflict_do_nothing(index_elements=["name"])
                    .returning(b.c.name)
                ).first()
                return 0.0 if seeded is not None else self.take(now)
            tokens = min(self.capacity, row.tokens + max(0.0, now - row.at) * self.rate)
            if tokens < 1.0:
                return (1.0 - tokens) / self.rate
            db.execute(update(b).where(b.c.name == self.name).values(tokens=tokens - 1.0, at=now))
            return 0.0
