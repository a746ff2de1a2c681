"""What is stored with every chunk: the article's metadata and the chunk's place in it.

Chunk metadata (all scalar, as Chroma requires):
    article_id, title, date, source, url, author, origin, content_hash,
    text_hash (of the article's text alone, whitespace normalised, to find duplicates),
    chunk_index, chunk_count, start, end, `ingested` (when the article came in, Unix
    seconds; absent before it was recorded), `day` (the date's ordinal, for date
    filters; absent when the article has no date), and `furniture`: the lines of the
    article that aren't prose (datelines, bylines, credits, promos: index/furniture.py)
    that overlap the chunk, as 'start-end:kind;…' in article offsets, empty when none;
    absent for chunks stored before it was recorded, whose furniture is recognised
    when they are read

Chunk ids are `article_id:content_hash:index`, so a changed article gets new ids.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from index.articles import Article
from index.furniture import encode, recognise, within
from index.ingest.chunking import Chunk


@dataclass(frozen=True)
class StoredArticle:
    """An article as the index knows it."""

    id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    origin: str
    content_hash: str
    chunks: int
    text_hash: str = ""  # empty for articles stored before it was recorded
    ingested: float | None = None  # Unix seconds; None for articles stored before


def text_hash(text: str) -> str:
    """A hash of an article's text alone, with runs of whitespace counted as one space."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def chunk_id(chunk: Chunk, content_hash: str) -> str:
    """A chunk's id: the article's content hash with the chunk's place in it."""
    return f"{chunk.article_id}:{content_hash}:{chunk.index}"


def chunk_metadata(
    article: Article, chunk: Chunk, chunk_count: int, ingested: float
) -> dict[str, Any]:
    """The metadata stored on every chunk: the article's, when it came in, where the chunk sits."""
    day = date_ordinal(article.date)
    return ({"day": day} if day is not None else {}) | {
        "article_id": article.id,
        "title": article.title,
        "date": article.date or "",
        "source": article.source or "",
        "url": article.url or "",
        "author": article.author or "",
        "origin": article.origin,
        "content_hash": article.content_hash,
        "text_hash": text_hash(article.text),
        "chunk_index": chunk.index,
        "chunk_count": chunk_count,
        "start": chunk.start,
        "end": chunk.end,
        "ingested": round(ingested, 3),
        "furniture": encode(
            within(recognise(article.text, article.source), chunk.start, chunk.end)
        ),
    }


def date_ordinal(iso: str | None) -> int | None:
    """The proleptic Gregorian ordinal of an ISO date(-time), or None."""
    if not iso:
        return None
    try:
        return date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return None


def stored_article(meta: Any) -> StoredArticle:
    """The article that a chunk-0 record describes."""
    return StoredArticle(
        id=str(meta["article_id"]),
        title=str(meta.get("title", "")),
        date=meta.get("date") or None,
        source=meta.get("source") or None,
        url=meta.get("url") or None,
        origin=str(meta.get("origin", "")),
        content_hash=str(meta.get("content_hash", "")),
        chunks=int(meta.get("chunk_count", 0)),
        text_hash=str(meta.get("text_hash", "")),
        ingested=float(meta["ingested"]) if "ingested" in meta else None,
    )
