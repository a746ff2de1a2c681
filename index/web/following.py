"""News sources as both front ends use them: fetch pages, follow feeds, refresh them.

Fetching happens before the write lock is taken; only the ingest of what was fetched
holds it. Feeds remember their new entries only after those have been ingested.
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from index.articles import Article
from index.errors import FetchError
from index.ingest.batches import IngestProgress, IngestReport
from index.ingest.loaders import LoadProblem
from index.ingest.pipeline import ingest_paths
from index.settings import IndexConfig
from index.web.feed_list import Feed, feed_list, now
from index.web.feeds import FeedUpdate, check_feed, discover_feed, looks_like_feed, refresh_feed
from index.web.fetch import Fetcher, Page
from index.web.pages import article_from_page, fetch_articles

log = logging.getLogger(__name__)

Status = Callable[[str], None]


def quiet(text: str) -> None:
    """A `Status` that only logs."""
    log.debug("%s", text)


def make_fetcher(settings: IndexConfig) -> Fetcher:
    """A fetcher with the configured limits (close it, or use it as a context manager)."""
    return Fetcher(settings.fetch)


def fetch_urls(
    settings: IndexConfig, urls: list[str], done: Callable[[str], None] | None = None
) -> tuple[list[Article], list[LoadProblem]]:
    """Fetch web pages as articles; a one-line problem for each URL that fails."""
    articles: list[Article] = []
    problems: list[LoadProblem] = []
    with make_fetcher(settings) as fetcher:
        for item in fetch_articles(fetcher, urls, done):
            if isinstance(item, LoadProblem):
                problems.append(item)
            else:
                articles.append(item)
    return articles, problems


@dataclass
class RefreshReport:
    """What one refresh of the followed feeds did."""

    feeds: int = 0
    not_modified: int = 0
    entries: int = 0
    ingest: IngestReport | None = None
    problems: list[LoadProblem] = field(default_factory=list)

    @property
    def added(self) -> list[str]:
        """The ids of the new articles."""
        return self.ingest.added if self.ingest else []

    @property
    def changed(self) -> bool:
        """Whether the index changed, so answering must reread it."""
        return bool(self.ingest and (self.ingest.new or self.ingest.updated))

    def summary(self) -> str:
        """'2 feeds checked (1 not modified), 3 new entries: 3 new, 0 updated, ...'."""
        line = f"{self.feeds} feed{'s' * (self.feeds != 1)} checked"
        if self.not_modified:
            line += f" ({self.not_modified} not modified)"
        line += f", {self.entries} new entr{'ies' if self.entries != 1 else 'y'}"
        if self.ingest:
            line += ": " + self.ingest.summary().split(";")[0]
        if self.problems:
            line += f"; {len(self.problems)} problem{'s' * (len(self.problems) != 1)}"
        return line


def refresh_feeds(
    settings: IndexConfig,
    keys: list[str] | None = None,
    status: Status = quiet,
    progress: IngestProgress | None = None,
) -> RefreshReport:
    """Refresh followed feeds (all, or those with these ids or URLs) and ingest new entries."""
    followed = feed_list(settings)
    feeds = [followed.find(key) for key in keys] if keys else followed.feeds()
    report = RefreshReport(feeds=len(feeds))
    updates: list[FeedUpdate] = []
    with make_fetcher(settings) as fetcher:
        for i, feed in enumerate(feeds, 1):
            status(f"Checking feed {i} of {len(feeds)}: {feed.title or feed.url}")
            update = refresh_feed(
                fetcher, feed, settings.feeds.full_text_min_words, settings.feeds.max_entries
            )
            updates.append(update)
            report.not_modified += update.not_modified
            report.entries += len(update.seen)
            if update.error:
                report.problems.append(LoadProblem(feed.url, update.error))
            report.problems.extend(update.problems)
    articles = [article for update in updates for article in update.articles]
    if articles:
        status(f"Ingesting {len(articles)} new article{'s' * (len(articles) != 1)}…")
        report.ingest = ingest_paths(settings, [], progress, articles)
        report.problems.extend(report.ingest.problems)
    when = now()
    for update in updates:
        followed.update(update.feed_id, functools.partial(update.apply, when=when))
    return report


@dataclass
class Added:
    """What adding a URL did: a feed followed (and refreshed), or a page ingested."""

    message: str
    feed: Feed | None = None
    report: IngestReport | None = None
    refresh: RefreshReport | None = None

    @property
    def changed(self) -> bool:
        """Whether the index changed, so answering must reread it."""
        if self.refresh is not None:
            return self.refresh.changed
        return bool(self.report and (self.report.new or self.report.updated))


def add_source(settings: IndexConfig, url: str, status: Status = quiet) -> Added:
    """Follow a feed and ingest its entries, or ingest a page; FetchError says why not.

    A page without an article that announces a feed (a site's front page) follows it.
    """
    with make_fetcher(settings) as fetcher:
        page = fetcher.get(url)
        if not looks_like_feed(page):
            try:
                article = article_from_page(page, page.url)
            except FetchError:
                if discover_feed(page) is None:
                    raise
            else:
                status(f"Ingesting “{article.title}”…")
                report = ingest_paths(settings, [], None, [article])
                dated = f" ({article.date[:10]})" if article.date else ""
                return Added(
                    f"Ingested “{article.title}”{dated}: {report.summary()}", report=report
                )
        feed, new, entries = follow_feed(settings, fetcher, url, page, status)
    name = f"feed {feed.id}: {feed.title or feed.url}"
    if not new:
        return Added(f"Already following {name}", feed)
    status(f"Reading {name} ({entries} entr{'ies' if entries != 1 else 'y'})…")
    refresh = refresh_feeds(settings, [str(feed.id)], status)
    lines = [f"Following {name}", refresh.summary()]
    lines += [f"skipped {problem}" for problem in refresh.problems]
    return Added("\n".join(lines), feed, refresh=refresh)


def follow_feed(
    settings: IndexConfig,
    fetcher: Fetcher,
    url: str,
    page: Page | None = None,
    status: Status = quiet,
) -> tuple[Feed, bool, int]:
    """Add the feed at `url` (or the one its page announces) to the feed list.

    Returns the feed, whether it is newly followed, and how many entries it lists now;
    FetchError when neither the URL nor its page's announced link is a feed.
    """
    page = page or fetcher.get(url)
    announced = None if looks_like_feed(page) else discover_feed(page)
    if announced is not None:
        status(f"No article on the page; following its feed {announced}…")
        url, page = announced, fetcher.get(announced)
    parsed = check_feed(page)
    feed, new = feed_list(settings).add(url, parsed.title)
    return feed, new, len(parsed.entries)


def unfollow_feed(settings: IndexConfig, key: str) -> Feed:
    """Stop following a feed by id or URL; its articles stay indexed."""
    return feed_list(settings).remove(key)


def list_feeds(settings: IndexConfig) -> list[Feed]:
    """The followed feeds."""
    return feed_list(settings).feeds()
