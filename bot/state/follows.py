"""What chats follow: watches, alerts (claims and the outbox), and digest schedules.

Each alert is made once: planning claims (chat, article) in `alerted` (a primary key, so
a second claim by any process inserts nothing) and, in the same transaction, puts the
message in the `outbox`. Senders then take due outbox rows by moving their due time on
(a lease: a sender that dies mid-send leaves the row due again later), send, and mark
them sent; a failed send is tried again after a growing wait. A scheduled digest is
taken by moving its due time on only if nobody moved it first.
"""

import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select, update

from bot.state import tables
from bot.state.chats import StateStore, upsert
from bot.state.digests import DigestSchedules

KEEP_ALERTED_S = 30 * 86400
SENDING_S = 120.0  # how long a sender holds an outbox row before others may retry it
ATTEMPTS = 8  # sends of one message before it is given up (waits double in between)


@dataclass(frozen=True)
class Watch:
    """One chat's watch: its number in the chat, its words, and their vector if embedded."""

    chat_id: int
    number: int
    words: str
    vector: np.ndarray | None = None
    model: str | None = None
    created: float = 0.0  # Unix s: articles ingested before it don't alert it


@dataclass(frozen=True)
class Outgoing:
    """One outbox message: an alert (with its article, for the button) or a plain line."""

    id: int
    chat_id: int
    article_id: str | None
    html: str
    attempts: int


class Subscriptions(DigestSchedules):
    """Watches, alert claims and the outbox, and (inherited) digest schedules."""

    store: StateStore

    def add_watch(self, chat_id: int, words: str, limit: int) -> int | None:
        """Save a watch; its number in the chat, or None when the chat has `limit` already."""
        w = tables.watches
        with self.store.transaction(lock=chat_id) as db:
            count, highest = db.execute(
                select(func.count(), func.coalesce(func.max(w.c.number), 0)).where(
                    w.c.chat_id == chat_id
                )
            ).one()
            if count >= limit:
                return None
            db.execute(
                w.insert().values(
                    chat_id=chat_id, number=highest + 1, words=words, created=time.time()
                )
            )
            return int(highest) + 1

    def watches(self, chat_id: int | None = None) -> list[Watch]:
        """One chat's watches by number, or every chat's."""
        w = tables.watches
        query = select(w.c.chat_id, w.c.number, w.c.words, w.c.vector, w.c.model, w.c.created)
        if chat_id is not None:
            query = query.where(w.c.chat_id == chat_id)
        with self.store.engine.begin() as db:
            rows = db.execute(query.order_by(w.c.chat_id, w.c.number)).all()
        return [
            Watch(c, n, words, np.frombuffer(v, dtype=np.float32) if v else None, m, created)
            for c, n, words, v, m, created in rows
        ]

    def remove_watch(self, chat_id: int, number: int) -> str | None:
        """Delete a watch; its words, or None when the chat has no such watch."""
        w = tables.watches
        with self.store.transaction() as db:
            words = db.scalar(
                delete(w).where(w.c.chat_id == chat_id, w.c.number == number).returning(w.c.words)
            )
        return words

    def store_vectors(self, watches: list[Watch], vectors: list[np.ndarray], model: str) -> None:
        """Keep the watches' embeddings, so they are embedded once per model."""
        w = tables.watches
        with self.store.transaction() as db:
            for watch, vector in zip(watches, vectors, strict=True):
                db.execute(
                    update(w)
                    .where(w.c.chat_id == watch.chat_id, w.c.number == watch.number)
                    .values(vector=np.asarray(vector, dtype=np.float32).tobytes(), model=model)
                )

    def claim_alerts(
        self, chat_id: int, article_ids: list[str], messages: dict[str, str] | None = None
    ) -> set[str]:
        """Mark articles alerted to a chat; the ones nobody had claimed before.

        `messages` (article id -> HTML) are queued in the outbox for the articles this
        call claimed, in the same transaction. Claims older than `KEEP_ALERTED_S` are
        forgotten: an article is new only once.
        """
        now, claimed = time.time(), set()
        a = tables.alerted
        with self.store.transaction(durable=True) as db:
            db.execute(delete(a).where(a.c.at < now - KEEP_ALERTED_S))
            for article_id in article_ids:
                taken = db.execute(
                    upsert(db, a)
                    .values(chat_id=chat_id, article_id=article_id, at=now)
                    .on_conflict_do_nothing(index_elements=["chat_id", "article_id"])
                    .returning(a.c.article_id)
                )
                if taken.first() is not None:
                    claimed.add(article_id)
            for article_id, html in (messages or {}).items():
                if article_id in claimed:
                    self._queue(db, chat_id, article_id, html, now)
        return claimed

    def queue(self, chat_id: int, html: str) -> None:
        """Put a message without an article (e.g. "and N more") in the outbox."""
        with self.store.transaction() as db:
            self._queue(db, chat_id, None, html, time.time())

    @staticmethod
    def _queue(db: object, chat_id: int, article_id: str | None, html: str, now: float) -> None:
        db.execute(  # type: ignore[attr-defined]
            tables.outbox.insert().values(
                chat_id=chat_id, article_id=article_id, html=html, attempts=0, due=now
            )
        )

    def take_outgoing(self, limit: int = 50, now: float | None = None) -> list[Outgoing]:
        """Take up to `limit` due outbox messages for sending (oldest first)."""
        now = time.time() if now is None else now
        o = tables.outbox
        with self.store.transaction(lock=_OUTBOX_LOCK, durable=True) as db:
            done = (o.c.sent < now - KEEP_ALERTED_S) | (o.c.failed < now - KEEP_ALERTED_S)
            db.execute(delete(o).where(done))  # kept a while, for a look at what went out
            rows = db.execute(
                select(o.c.id, o.c.chat_id, o.c.article_id, o.c.html, o.c.attempts)
                .where(o.c.sent.is_(None), o.c.failed.is_(None), o.c.due <= now)
                .order_by(o.c.id)
                .limit(limit)
            ).all()
            if rows:
                db.execute(
                    update(o).where(o.c.id.in_([r.id for r in rows])).values(due=now + SENDING_S)
                )
        return [Outgoing(*row) for row in rows]

    def sent(self, outgoing: Outgoing) -> None:
        """Mark an outbox message sent."""
        o = tables.outbox
        with self.store.transaction(durable=True) as db:
            db.execute(update(o).where(o.c.id == outgoing.id).values(sent=time.time()))

    def failed(self, outgoing: Outgoing, first_wait_s: float) -> float | None:
        """Count a failed send: the wait before it is tried again (doubling), None: given up."""
        o, now = tables.outbox, time.time()
        attempts = outgoing.attempts + 1
        wait = first_wait_s * 2 ** (attempts - 1) if attempts < ATTEMPTS else None
        with self.store.transaction() as db:
            db.execute(
                update(o)
                .where(o.c.id == outgoing.id)
                .values(
                    attempts=attempts,
                    due=now + (wait or 0.0),
                    failed=now if wait is None else None,
                )
            )
        return wait

    def alerted_since(self, chat_id: int, since: float) -> list[str]:
        """The articles alerted to a chat since a moment."""
        a = tables.alerted
        with self.store.engine.begin() as db:
            rows = db.execute(
                select(a.c.article_id).where(a.c.chat_id == chat_id, a.c.at >= since)
            ).all()
        return [row[0] for row in rows]

    def drop_chat(self, chat_id: int) -> None:
        """Forget a chat's watches, digest and unsent alerts (the bot was blocked or it's gone)."""
        o = tables.outbox
        with self.store.transaction() as db:
            db.execute(delete(tables.watches).where(tables.watches.c.chat_id == chat_id))
            db.execute(delete(tables.digests).where(tables.digests.c.chat_id == chat_id))
            db.execute(
                update(o)
                .where(o.c.chat_id == chat_id, o.c.sent.is_(None), o.c.failed.is_(None))
                .values(failed=time.time())
            )


_OUTBOX_LOCK = 2_604_202  # advisory lock key: one sender takes a batch at a time
