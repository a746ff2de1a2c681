"""Open the shared state database, migrate it, and bring in an old state file once.

One URL (`state` in config.yaml) picks the engine: SQLite for one host (the default, a
file beside the index) or Postgres (psycopg 3) for replicas on several hosts. Every
process migrates the database at start with Alembic, inside one transaction that first
takes a lock (Postgres: an advisory lock; SQLite: `BEGIN IMMEDIATE`), so replicas that
start together migrate one after the other and the later ones find nothing to do.

A Postgres database that starts empty takes the rows of the SQLite state file the bot
used before (`telegram.state_file`), once: a mark records the import.
"""

import logging
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from bot.state import tables
from index.errors import DataDirError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 2_604_201  # the advisory lock key of migrations (any constant)
_IMPORTED = "imported-state-file"
_IMPORTED_TABLES = (tables.chats, tables.watches, tables.alerted, tables.digests)


def default_url(state_file: Path) -> str:
    """The SQLite URL of a state file."""
    return f"sqlite:///{state_file}"


def open_database(url: str, old_file: Path | None = None) -> Engine:
    """The migrated state database at `url`; DataDirError naming the URL when unusable."""
    try:
        parsed = make_url(url)
        if parsed.drivername in {"postgresql", "postgres"}:
            parsed = parsed.set(drivername="postgresql+psycopg")
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ArgumentError(f"{parsed.get_backend_name()} is not supported")
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite(parsed.database or "")
        else:
            engine = _postgres(parsed)
        migrate(engine)
        if old_file is not None and parsed.get_backend_name() != "sqlite":
            import_state_file(engine, old_file)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DataDirError(
            f"state: {url!r} is not a usable database URL ({exc}); use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from None
    except (OperationalError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DataDirError(
            f"can't open the shared bot state at {shown}: {reason}; check `state` in "
            "config.yaml (and PGPASSWORD), and that the database is running"
        ) from None
    return engine


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


def migrate(engine: Engine) -> None:
    """Bring the database's tables up to date, one process at a time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(text(f"pg_advisory_xact_lock({_MIGRATION_LOCK})")))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def import_state_file(engine: Engine, old_file: Path) -> None:
    """Copy an old SQLite state file's chats, watches, alerts and digests in, once."""
    if not old_file.is_file():
        return
    with engine.begin() as connection:
        connection.execute(select(text(f"pg_advisory_xact_lock({_MIGRATION_LOCK})")))
        done = connection.execute(
            select(tables.marks.c.value).where(tables.marks.c.name == _IMPORTED)
        ).first()
        if done is not None:
            return
        source = _sqlite(str(old_file))
        try:
            migrate(source)  # an old file may lack tables that newer ones have
            with source.connect() as old:
                counts = []
                for table in _IMPORTED_TABLES:
                    rows = [dict(r._mapping) for r in old.execute(select(table))]
                    if rows:
                        connection.execute(insert(table), rows)
                    counts.append(f"{len(rows)} {table.name}")
        finally:
            source.dispose()
        connection.execute(
            insert(tables.marks).values(name=_IMPORTED, value=str(old_file), at=time.time())
        )
    log.info("imported the old state file %s: %s", old_file, ", ".join(counts))
