"""The shared database's engine: SQLite for one host, Postgres (psycopg 3) for many.

One URL (`state` in config.yaml) names the database that every process of a deployment
shares: the bot keeps its state there (bot/state/), and the index keeps the feed list
there (index/web/feed_list.py) and, on Postgres, takes its cross-host write lock there
(index/store/locking.py). Both open it through `make_engine`, so the SQLite pragmas
and the Postgres connection settings are the same wherever the database is used.
"""

import atexit
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from index.errors import DataDirError


def parse_url(url: str) -> URL:
    """The URL with psycopg 3 as Postgres's driver; ArgumentError for other engines."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ArgumentError(f"{parsed.get_backend_name()} is not supported")
    return parsed


def make_engine(url: URL) -> Engine:
    """A new engine for a parsed URL (see `parse_url`)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite(url.database or "")
    return _postgres(url)


@functools.cache
def shared_engine(url: str) -> Engine:
    """One engine per URL for this process (the index's feed list and write lock)."""
    engine = make_engine(parse_url(url))
    atexit.register(engine.dispose)  # close its connections cleanly, not at garbage collection
    return engine


@contextmanager
def usable(url: str) -> Iterator[None]:
    """Turn a bad URL or an unreachable database into a one-line DataDirError."""
    try:
        yield
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DataDirError(
            f"state: {url!r} is not a usable database URL ({exc}); use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from None
    except (OperationalError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DataDirError(
            f"can't open the shared state at {shown(url)}: {reason}; check `state` in "
            "config.yaml (and PGPASSWORD), and that the database is running"
        ) from None


def shown(url: str) -> str:
    """The URL for messages, without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def advisory_xact_lock(connection: Connection, key: int) -> None:
    """On Postgres, hold an advisory lock until the transaction ends (SQLite: a no-op,
    its transactions already take the write lock at `BEGIN IMMEDIATE`)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(text(f"pg_advisory_xact_lock({int(key)})")))


def _postgres(url: URL) -> Engine:
    """A Postgres engine whose commits don't wait for the disk, unless a claim asks to.

    A commit that waits for its WAL flush costs about 5 ms here, against 0.4 ms without;
    a round of state calls per update makes six. Losing the last moments of chat history
    or of a rate-limit window to a server crash is harmless; the alert claims and the
    outbox ask for a flushed commit (`StateStore.transaction(durable=True)`).
    """
    engine = create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        with dbapi.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        dbapi.commit()

    return engine


def _sqlite(path: str) -> Engine:
    """A SQLite engine in WAL mode whose transactions all take the write lock at once."""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30.0})

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # SQLAlchemy's "begin" below starts transactions
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            dbapi.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # check-and-write statements (rate limits, claims) must be atomic across processes
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
