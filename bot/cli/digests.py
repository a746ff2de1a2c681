"""`newsbot digest`: the stories of the articles ingested lately, newest first."""

import json
import time
from datetime import datetime

import click

from bot.cli.durations import parse_duration
from bot.cli.options import with_settings
from bot.config import Settings
from index.errors import NewsbotError


def since_moment(text: str, now: float) -> float:
    """Unix seconds for --since: a duration back from now (24h, 90m, 2d) or an ISO date/time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            return now - parse_duration(text)
        except NewsbotError:
            raise NewsbotError(
                f"can't read --since '{text}'; write a duration such as 24h or 2d, "
                "or a date such as 2026-12-01 or 2026-12-01T08:00"
            ) from None
    return moment.timestamp()  # a naive time is local time


@click.command()
@click.option(
    "--since",
    default="24h",
    show_default=True,
    help="How far back: a duration (90m, 24h, 2d) or an ISO date or time.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the digest as one JSON object.")
@with_settings
def digest(settings: Settings, since: str, as_json: bool) -> None:
    """The stories of the articles ingested since then, newest first."""
    from bot.digest import build_digest, digest_text
    from index.store.chunks import open_existing

    now = time.time()
    start = since_moment(since, now)
    store = open_existing(settings.data_dir, settings.store)
    found = build_digest(store, settings.digest, start, now)
    if as_json:
        click.echo(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        click.echo(digest_text(found))
