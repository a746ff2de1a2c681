"""The article: the unit that is ingested, listed, replaced and removed."""

import hashlib
import re
from dataclasses import dataclass

_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Article:
    """One news article: its body text and what we know about where it came from."""

    id: str
    text: str
    title: str
    origin: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None
    id_from_filename: bool = False

    @property
    def content_hash(self) -> str:
        """A hash of everything stored for the article, so any change re-ingests it."""
        fields = (self.text, self.title, self.date, self.source, self.url, self.author)
        return hashlib.sha256(repr(fields).encode()).hexdigest()[:16]


def slugify(text: str, max_len: int = 64) -> str:
    """Turn a file name or title into a short id that is easy to type."""
    return _SLUG_UNSAFE.sub("-", text.lower()).strip("-")[:max_len].rstrip("-")


def derived_id(*parts: str | None) -> str:
    """An id for a record that has none: a short hash of what identifies it."""
    key = "\n".join(p or "" for p in parts)
    return hashlib.sha1(key.encode()).hexdigest()[:12]
