"""`newsbot feeds`: follow RSS and Atom feeds, list, remove and refresh them."""

import sys

import click

from bot.cli_options import with_settings
from bot.config import Settings
from index.errors import NewsbotError


@click.group()
def feeds() -> None:
    """Follow RSS and Atom feeds: add, list, remove, refresh."""


@feeds.command(name="add")
@click.argument("url")
@with_settings
def feeds_add(settings: Settings, url: str) -> None:
    """Follow a feed (checked by fetching it); `feeds refresh` ingests its entries."""
    from bot.news_sources import make_fetcher
    from index.feedlist import FeedList
    from index.feeds import check_feed, discover_feed

    with make_fetcher(settings) as fetcher:
        page = fetcher.get(url)
        announced = discover_feed(page)  # a web page announcing its feed
        if announced is not None:
            url, page = announced, fetcher.get(announced)
        parsed = check_feed(page)
    feed, new = FeedList(settings.data_dir).add(url, parsed.title)
    verb = "added" if new else "already following"
    click.echo(f"{verb} feed {feed.id}: {feed.title or url} ({len(parsed.entries)} entries)")


@feeds.command(name="list")
@with_settings
def feeds_list(settings: Settings) -> None:
    """List the followed feeds: id, title, URL and state."""
    from bot.news_sources import list_feeds

    followed = list_feeds(settings)
    for feed in followed:
        click.echo(feed.describe())
    click.echo(f"{len(followed)} feeds" if followed else "No feeds yet: newsbot feeds add URL")


@feeds.command(name="remove")
@click.argument("feed")
@with_settings
def feeds_remove(settings: Settings, feed: str) -> None:
    """Stop following a feed (by id or URL); its articles stay in the index."""
    from bot.news_sources import remove_feed

    removed = remove_feed(settings, feed)
    click.echo(f"removed feed {removed.id}: {removed.title or removed.url}")


@feeds.command(name="refresh")
@click.argument("feed_keys", nargs=-1, metavar="[FEED]...")
@click.option("--every", help="Keep refreshing at this interval, e.g. 30m, 2h, 90s.")
@with_settings
def feeds_refresh(settings: Settings, feed_keys: tuple[str, ...], every: str | None) -> None:
    """Fetch new entries of every followed feed (or the given ids/URLs) and ingest them."""
    import time

    from bot.news_sources import refresh_feeds
    from bot.progress import RichIngestProgress
    from index.durations import parse_duration

    interval = parse_duration(every) if every else None
    while True:
        try:
            with RichIngestProgress() as progress:
                report = refresh_feeds(settings, list(feed_keys), progress=progress)
        except NewsbotError as exc:
            if interval is None:
                raise
            click.echo(f"newsbot: {exc}", err=True)
        else:
            for problem in report.problems:
                click.echo(f"skipped {problem}", err=True)
            click.echo(report.summary() if report.feeds else "No feeds yet: newsbot feeds add URL")
            if interval is None:
                sys.exit(1 if report.problems else 0)
        time.sleep(interval)
