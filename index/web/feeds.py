"""RSS and Atom feeds: parse with feedparser, and turn new entries into articles.

A refresh of one feed is a conditional GET (If-None-Match / If-Modified-Since from the
last answer); 304 means nothing to do. Entries already seen are skipped. A new entry
whose feed carries its full text is used as is; otherwise its page is fetched and the
article extracted from it. Nothing is written here: `FeedUpdate` says what to ingest
and what to remember once ingest has succeeded.
"""

import html
import io
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from index.articles import Article
from index.errors import FetchError
from index.ingest.loaders import LoadProblem
from index.web.feed_list import Feed
from index.web.fetch import Fetcher, Page
from index.web.pages import HTML_TYPES, article_from_html, article_from_page

log = logging.getLogger(__name__)

FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/feed+json",
}
_FEED_STARTS = (b"<rss", b"<feed", b"<rdf:rdf", b"<?xml")


@dataclass(frozen=True)
class Entry:
    """One feed entry: a key to remember it by, its link and what the feed says."""

    key: str
    link: str | None
    title: str | None = None
    date: str | None = None
    author: str | None = None
    content: str | None = None  # HTML of the full text when the feed carries it

    def fallback(self, feed_title: str) -> dict[str, Any]:
        """Metadata to use where the page itself says nothing."""
        return {"title": self.title, "date": self.date, "author": self.author, "source": feed_title}


@dataclass
class ParsedFeed:
    """A feed's title and entries, newest first as the feed lists them."""

    title: str
    entries: list[Entry]


@dataclass
class FeedUpdate:
    """What refreshing one feed found; applied to the feed list after ingest."""

    feed_id: int
    url: str
    title: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    articles: list[Article] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def apply(self, feed: Feed, when: str) -> None:
        """Remember the validators, the title and the entries handled."""
        feed.refreshed = when
        feed.error = self.error
        if self.error or self.not_modified:
            return
        feed.title = self.title or feed.title
        feed.etag, feed.last_modified = self.etag, self.last_modified
        known = set(feed.seen)
        feed.seen.extend(key for key in self.seen if key not in known)


def looks_like_feed(page: Page) -> bool:
    """Whether a fetched resource is a feed rather than a web page."""
    if page.content_type in FEED_TYPES:
        return True
    head = page.body[:512].lstrip().lower()
    return page.content_type not in HTML_TYPES and head.startswith(_FEED_STARTS)


def parse_feed(body: bytes, base_url: str = "") -> ParsedFeed:
    """The entries of an RSS or Atom document; FetchError when it is not a usable feed."""
    import feedparser

    # a file object: feedparser opens bytes that name a local file (a feed saying
    # "/etc/passwd" or "/dev/zero" would be read from this machine)
    parsed = feedparser.parse(io.BytesIO(body))
    reason = parsed.get("bozo_exception") if parsed.get("bozo") else None
    detail = f" ({str(reason).splitlines()[0][:120]})" if reason else ""
    if not parsed.get("version"):
        raise FetchError(f"malformed feed: not RSS or Atom{detail}")
    entries = []
    for item in parsed.entries:
        link = urljoin(base_url, item["link"]) if item.get("link") else None
        key = item.get("id") or link or item.get("title")
        if not key:
            continue
        entries.append(
            Entry(
                key=str(key),
                link=link,
                title=item.get("title"),
                date=item.get("published") or item.get("updated"),
                author=item.get("author"),
                content=_full_content(item),
            )
        )
    if reason and not entries:  # feeds with small mistakes are still read
        raise FetchError(f"malformed feed{detail}")
    return ParsedFeed(title=str(parsed.feed.get("title") or ""), entries=entries)


def _full_content(item: Any) -> str | None:
    """The entry's own HTML or text content (Atom <content>, RSS content:encoded)."""
    for content in item.get("content") or []:
        value = content.get("value")
        if value and value.strip():
            return str(value)
    return None


def conditional_headers(feed: Feed) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the feed's last answer."""
    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    return headers


def discover_feed(page: Page) -> str | None:
    """The first RSS or Atom feed an HTML page announces (`<link rel="alternate">`)."""
    if page.content_type not in HTML_TYPES or not page.body.strip():
        return None
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(page.body)
    except (ValueError, lxml.etree.ParserError):
        return None
    for link in tree.iterfind(".//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and (link.get("type") or "").lower() in FEED_TYPES:
            return urljoin(page.url, link.get("href", "").strip())
    return None


def check_feed(page: Page) -> ParsedFeed:
    """Parse a page that should be a feed; FetchError when it isn't one."""
    if page.content_type in HTML_TYPES:
        raise FetchError("a web page, not a feed (add it with newsbot ingest instead)")
    return parse_feed(page.body, page.url)


def refresh_feed(
    fetcher: Fetcher,
    feed: Feed,
    min_words: int,
    max_entries: int,
    entry_done: Callable[[], None] | None = None,
) -> FeedUpdate:
    """Fetch a feed (conditionally) and the articles of its entries not seen before."""
    update = FeedUpdate(feed.id, feed.url)
    try:
        page = fetcher.get(feed.url, conditional_headers(feed))
        if page.not_modified:
            update.not_modified = True
            return update
        parsed = check_feed(page)
    except FetchError as exc:
        update.error = str(exc)
        return update
    update.title = parsed.title
    update.etag, update.last_modified = page.headers.get("etag"), page.headers.get("last-modified")
    seen = set(feed.seen)
    unseen = [entry for entry in parsed.entries if entry.key not in seen]
    new = unseen[: max(max_entries, 0)]
    if len(unseen) > len(new):  # the rest next time: the feed must not answer 304 then
        update.etag = update.last_modified = None

    def one(entry: Entry) -> Article | LoadProblem:
        try:
            return entry_article(fetcher, entry, parsed.title, min_words)
        except FetchError as exc:
            return LoadProblem(entry.link or entry.key, str(exc))
        except Exception as exc:  # a bug must not sink the rest of the feed
            log.exception("unexpected error while reading %s", entry.link or entry.key)
            return LoadProblem(
                entry.link or entry.key, f"unexpected error ({type(exc).__name__}); see the log"
            )
        finally:
            if entry_done:
                entry_done()

    with ThreadPoolExecutor(fetcher.settings.workers, thread_name_prefix="entry") as pool:
        for result in pool.map(one, new):
            if isinstance(result, LoadProblem):
                update.problems.append(result)
            else:
                update.articles.append(result)
    update.seen = [entry.key for entry in new]  # failures are reported once, not retried
    return update


def entry_article(fetcher: Fetcher, entry: Entry, feed_title: str, min_words: int) -> Article:
    """The entry's article: from its full-text content, else from its fetched page."""
    url = entry.link or entry.key
    fallback = entry.fallback(feed_title)
    if entry.content and _words(entry.content) >= min_words:
        page = f"<html><head><title>{html.escape(entry.title or '')}</title></head>"
        page += f"<body><article>{entry.content}</article></body></html>"
        return article_from_html(page, url, fallback)
    if not entry.link:
        raise FetchError("the entry has neither a link nor its full text")
    return article_from_page(fetcher.get(entry.link), entry.link, fallback)


def _words(content: str) -> int:
    """Words of text in an HTML fragment (roughly: tags are dropped)."""
    return len(re.sub(r"<[^>]+>", " ", content).split())
