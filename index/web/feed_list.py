"""The followed feeds, kept in the shared database that `state` names (not in code or config).

The index owns this table and its migrations (migrations/, with their own version table
`feed_list_version`), and is given the database URL by its caller (`state_url` of the
configuration): the index gets articles in, so the list of where they come from is its
own, and it never imports the bot. The bot's state lives beside it in the same
database, so one URL gives every replica, on any host, and `newsbot feeds` one list.
With SQLite (the default, no setup) that is a file; with Postgres, any number of hosts.

Each feed remembers the keys of the entries it has ingested (`feed_entries`); keys are
only ever added, so two refreshes that end together both keep theirs. Every change runs
in one transaction that takes the database's write lock (SQLite) or an advisory lock
(Postgres). A `feeds.json` left in the data directory by an older version is merged in
on first use (a feed already listed keeps its id and gains the file's seen keys), then
renamed `feeds.json.imported`, so nothing is lost and nothing is imported twice.
"""

import contextlib
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from index.errors import NewsbotError
from index.settings import IndexConfig
from index.store.database import advisory_xact_lock, shared_engine, usable

log = logging.getLogger(__name__)

FILE_NAME = "feeds.json"  # where older versions kept the list; imported once
MAX_SEEN = 5000  # entry keys remembered per feed; feeds list far fewer at a time
MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK = 2_604_260  # the advisory lock key of feed list changes (any constant)

metadata = MetaData()
feeds_table = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("url", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("added", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("refreshed", Text),
    Column("error", Text),
)
entries_table = Table(
    "feed_entries",
    metadata,
    Column("feed_id", Integer, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("seen", Float, nullable=False),
)
_COLUMNS = ("title", "etag", "last_modified", "refreshed", "error")


class FeedNotFoundError(NewsbotError):
    """No followed feed has that id or URL."""


@dataclass
class Feed:
    """A followed RSS or Atom feed and what the last refresh learnt about it."""

    id: int
    url: str
    title: str = ""
    added: str = ""
    etag: str | None = None
    last_modified: str | None = None
    refreshed: str | None = None
    error: str | None = None
    seen: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """'3  Example News  https://…/feed.xml (12 seen, refreshed 2026-11-28 07:00)'."""
        state = f"{len(self.seen)} seen"
        if self.refreshed:
            state += f", refreshed {self.refreshed[:16].replace('T', ' ')}"
        if self.error:
            state += f", last error: {self.error}"
        return f"{self.id}  {self.title or '(untitled)'}  {self.url} ({state})"


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def feed_list(settings: IndexConfig) -> "FeedList":
    """The feed list of this configuration's shared database."""
    return FeedList(settings.state_url, settings.data_dir)


class FeedList:
    """The feed list in the shared database at `url` (its old feeds.json in `data_dir`)."""

    def __init__(self, url: str, data_dir: Path | None = None) -> None:
        self.url = url
        with usable(url):
            self._engine = _migrated(url)
            if data_dir is not None and (data_dir / FILE_NAME).is_file():
                self._import(data_dir / FILE_NAME)

    def feeds(self) -> list[Feed]:
        """Every followed feed, by id."""
        with usable(self.url), self._engine.connect() as db:
            return _read(db)

    def find(self, key: str) -> Feed:
        """The feed with this id or URL; FeedNotFoundError otherwise."""
        for feed in self.feeds():
            if key.strip() in (str(feed.id), feed.url):
                return feed
        raise FeedNotFoundError(f"no feed '{key}'; `newsbot feeds list` shows ids and URLs")

    def add(self, url: str, title: str) -> tuple[Feed, bool]:
        """Follow a feed; returns it and whether it is new (False when already followed)."""
        with usable(self.url), self._engine.begin() as db:
            advisory_xact_lock(db, _LOCK)
            for feed in _read(db):
                if feed.url == url:
                    return feed, False
            feed = Feed(id=_next_id(db), url=url, title=title, added=now())
            db.execute(insert(feeds_table).values(_row(feed)))
            return feed, True

    def remove(self, key: str) -> Feed:
        """Stop following a feed (by id or URL); its articles stay in the index."""
        with usable(self.url), self._engine.begin() as db:
            advisory_xact_lock(db, _LOCK)
            for feed in _read(db):
                if key.strip() in (str(feed.id), feed.url):
                    db.execute(delete(entries_table).where(entries_table.c.feed_id == feed.id))
                    db.execute(delete(feeds_table).where(feeds_table.c.id == feed.id))
                    return feed
        raise FeedNotFoundError(f"no feed '{key}'; `newsbot feeds list` shows ids and URLs")

    def update(self, feed_id: int, change: Callable[[Feed], None]) -> None:
        """Apply a change to one feed, if it is still followed; new seen keys are added."""
        with usable(self.url), self._engine.begin() as db:
            advisory_xact_lock(db, _LOCK)
            feed = next((f for f in _read(db, feed_id) if f.id == feed_id), None)
            if feed is None:
                return
            known = set(feed.seen)
            change(feed)
            values = {name: getattr(feed, name) for name in _COLUMNS}
            db.execute(update(feeds_table).where(feeds_table.c.id == feed_id).values(values))
            _remember(db, feed_id, [key for key in feed.seen if key not in known])

    def _import(self, path: Path) -> None:
        """Merge an old feeds.json into the list, then set the file aside."""
        try:
            data: Any = json.loads(path.read_text("utf-8"))
            old = [Feed(**entry) for entry in data.get("feeds", [])]
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise NewsbotError(
                f"can't read the feed list {path}: {exc}; repair it, or remove it to start afresh"
            ) from None
        with self._engine.begin() as db:
            advisory_xact_lock(db, _LOCK)
            by_url = {feed.url: feed for feed in _read(db)}
            taken = {feed.id for feed in by_url.values()}
            for feed in old:
                if feed.url not in by_url:
                    if feed.id in taken or feed.id < 1:
                        feed.id = _next_id(db)
                    taken.add(feed.id)
                    db.execute(insert(feeds_table).values(_row(feed)))
                    by_url[feed.url] = feed
                _remember(db, by_url[feed.url].id, feed.seen)
        with contextlib.suppress(FileNotFoundError):  # another process imported it just now
            path.rename(path.with_name(FILE_NAME + ".imported"))
        log.info("imported %d feeds from %s into the shared feed list", len(old), path)


@functools.cache
def _migrated(url: str) -> Engine:
    """The shared engine for `url`, its feed tables migrated (once per process)."""
    engine = shared_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        advisory_xact_lock(connection, _LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


def _read(db: Connection, feed_id: int | None = None) -> list[Feed]:
    """The feeds (or one), with their seen keys oldest first."""
    rows = select(feeds_table).order_by(feeds_table.c.id)
    keys = select(entries_table.c.feed_id, entries_table.c.key).order_by(
        entries_table.c.seen, entries_table.c.key
    )
    if feed_id is not None:
        rows = rows.where(feeds_table.c.id == feed_id)
        keys = keys.where(entries_table.c.feed_id == feed_id)
    feeds = {row.id: Feed(**row._mapping) for row in db.execute(rows)}
    for row in db.execute(keys):
        if row.feed_id in feeds:
            feeds[row.feed_id].seen.append(row.key)
    return list(feeds.values())


def _row(feed: Feed) -> dict[str, Any]:
    """A feed's columns (its seen keys are rows of their own)."""
    return {"id": feed.id, "url": feed.url, "added": feed.added or now()} | {
        name: getattr(feed, name) or ("" if name == "title" else None) for name in _COLUMNS
    }


def _next_id(db: Connection) -> int:
    """The id a new feed gets: one past the highest (under the feed list's lock)."""
    return int(db.scalar(select(func.coalesce(func.max(feeds_table.c.id), 0))) or 0) + 1


def _remember(db: Connection, feed_id: int, keys: list[str]) -> None:
    """Add seen entry keys to a feed (those already there stay), keeping the newest MAX_SEEN."""
    if not keys:
        return
    start = time.time()
    rows = [{"feed_id": feed_id, "key": k, "seen": start + i * 1e-6} for i, k in enumerate(keys)]
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    db.execute(dialect.insert(entries_table).on_conflict_do_nothing(), rows)
    kept = (
        select(entries_table.c.key)
        .where(entries_table.c.feed_id == feed_id)
        .order_by(entries_table.c.seen.desc())
        .limit(MAX_SEEN)
    )
    db.execute(
        delete(entries_table).where(
            entries_table.c.feed_id == feed_id, entries_table.c.key.not_in(kept.scalar_subquery())
        )
    )
