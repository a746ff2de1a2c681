"""`newsbot feeds`: follow RSS and Atom feeds, list, unfollow and refresh them.

`feeds add` and `feeds remove` are the old names of `follow` and `unfollow`, kept as
hidden aliases for scripts.
"""

import sys

import click

from bot.cli.options import alias, as_batch_job, with_settings
from bot.config import Settings
from index.errors import NewsbotError


@click.group()
def feeds() -> None:
    """Follow RSS and Atom feeds: follow, list, unfollow, refresh."""


@feeds.command(name="follow")
@click.argument("url")
@with_settings
def feeds_follow(settings: Settings, url: str) -> None:
    """Follow a feed (checked by fetching it); `feeds refresh` ingests its entries."""
    from index.web.following import follow_feed, make_fetcher

    with make_fetcher(settings) as fetcher:
        feed, new, entries = follow_feed(settings, fetcher, url)
    verb = "following" if new else "already following"
    click.echo(f"{verb} feed {feed.id}: {feed.title or feed.url} ({entries} entries)")


@feeds.command(name="list")
@with_settings
def feeds_list(settings: Settings) -> None:
    """List the followed feeds: id, title, URL and state."""
    from index.web.following import list_feeds

    followed = list_feeds(settings)
    for feed in followed:
        click.echo(feed.describe())
    click.echo(f"{len(followed)} feeds" if followed else "No feeds yet: newsbot feeds follow URL")


@feeds.command(name="unfollow")
@click.argument("feed")
@with_settings
def feeds_unfollow(settings: Settings, feed: str) -> None:
    """Stop following a feed (by id or URL); its articles stay in the index."""
    from index.web.following import unfollow_feed

    removed = unfollow_feed(settings, feed)
    click.echo(f"unfollowed feed {removed.id}: {removed.title or removed.url}")


@feeds.command(name="refresh")
@click.argument("feed_keys", nargs=-1, metavar="[FEED]...")
@click.option("--every", help="Keep refreshing at this interval, e.g. 30m, 2h, 90s.")
@with_settings
def feeds_refresh(settings: Settings, feed_keys: tuple[str, ...], every: str | None) -> None:
    """Fetch new entries of every followed feed (or the given ids/URLs) and ingest them."""
    as_batch_job(settings)
    import time

    from bot.cli.durations import parse_duration
    from bot.cli.progress import RichIngestProgress
    from index.web.following import refresh_feeds

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
            click.echo(
                report.summary() if report.feeds else "No feeds yet: newsbot feeds follow URL"
            )
            if interval is None:
                sys.exit(1 if report.problems else 0)
        time.sleep(interval)


alias(feeds, feeds_follow, "add")
alias(feeds, feeds_unfollow, "remove")
