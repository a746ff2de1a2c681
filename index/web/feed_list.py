"""The followed feeds, kept in `feeds.json` in the data directory (not in code or config).

Every change is a read-modify-write under a file lock, so the bot's scheduled refresh
and a `newsbot feeds add` in another process never lose each other's changes.
"""

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from index.errors import NewsbotError

FILE_NAME = "feeds.json"
MAX_SEEN = 5000  # entry keys remembered per feed; feeds list far fewer at a time


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


class FeedList:
    """The feeds file of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock = FileLock(data_dir / f".{FILE_NAME}.lock")

    def feeds(self) -> list[Feed]:
        """Every followed feed, by id."""
        return self._read()

    def find(self, key: str) -> Feed:
        """The feed with this id or URL; FeedNotFoundError otherwise."""
        for feed in self._read():
            if key.strip() in (str(feed.id), feed.url):
                return feed
        raise FeedNotFoundError(f"no feed '{key}'; `newsbot feeds list` shows ids and URLs")

    def add(self, url: str, title: str) -> tuple[Feed, bool]:
        """Follow a feed; returns it and whether it is new (False when already followed)."""
        with self._editing() as feeds:
            for feed in feeds:
                if feed.url == url:
                    return feed, False
            feed = Feed(id=max((f.id for f in feeds), default=0) + 1, url=url, title=title)
            feed.added = now()
            feeds.append(feed)
            return feed, True

    def remove(self, key: str) -> Feed:
        """Stop following a feed (by id or URL); its articles stay in the index."""
        with self._editing() as feeds:
            for feed in feeds:
                if key.strip() in (str(feed.id), feed.url):
                    feeds.remove(feed)
                    return feed
        raise FeedNotFoundError(f"no feed '{key}'; `newsbot feeds list` shows ids and URLs")

    def update(self, feed_id: int, change: Callable[[Feed], None]) -> None:
        """Apply a change to one feed, if it is still followed."""
        with self._editing() as feeds:
            for feed in feeds:
                if feed.id == feed_id:
                    change(feed)
                    feed.seen = feed.seen[-MAX_SEEN:]

    @contextmanager
    def _editing(self) -> Iterator[list[Feed]]:
        """The feeds, written back atomically when the block ends without an error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            feeds = self._read()
            yield feeds
            temporary = self.path.with_suffix(".json.tmp")
            data = {"feeds": [asdict(f) for f in feeds]}
            temporary.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")
            os.replace(temporary, self.path)

    def _read(self) -> list[Feed]:
        try:
            data: Any = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise NewsbotError(f"can't read the feed list {self.path}: {exc}") from None
        try:
            return [Feed(**entry) for entry in data.get("feeds", [])]
        except (AttributeError, TypeError) as exc:  # valid JSON, but not a feed list
            raise NewsbotError(f"can't read the feed list {self.path}: {exc}") from None
