"""Open the shared state database, migrate it, and bring in an old state file once.

One URL (`state` in config.yaml) picks the engine: SQLite for one host (the default, a
file beside the index) or Postgres (psycopg 3) for replicas on several hosts; the
engine itself comes from index/store/database.py, as the index keeps its feed list in
the same database. Every process migrates the database at start with Alembic, inside
one transaction that first takes a lock (Postgres: an advisory lock; SQLite: `BEGIN
IMMEDIATE`), so replicas that start together migrate one after the other and the
later ones find nothing to do.

A Postgres database that starts empty takes the rows of the SQLite state file the bot
used before (`telegram.state_file`), once: a mark records the import.
"""

import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert, select, text

from bot.state import tables
from index.store.database import make_engine, parse_url, usable

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
    with usable(url):
        parsed = parse_url(url)
        engine = make_engine(parsed)
        migrate(engine)
        if old_file is not None and parsed.get_backend_name() != "sqlite":
            import_state_file(engine, old_file)
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
        source = make_engine(parse_url(default_url(old_file)))
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
