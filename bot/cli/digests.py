"""`newsbot digest`: the stories of a window of days (or of ingests), newest first.

--since and --until take what `ask` takes (YYYY-MM-DD, or words: "last week",
"yesterday", "3 days ago"), read as of --as-of, and also a duration back from then
(24h, 2d) or an ISO time. By default articles are selected by their date, undated ones
by when they came in; `--by ingested` selects every article by when it came in.
"""

import json
import re
import time
from datetime import date, datetime, timedelta

import click

from bot.cli.durations import parse_duration
from bot.cli.options import read_day, with_settings
from bot.config import ConfigError, Settings
from index.errors import NewsbotError

_TIME_OF_DAY = re.compile(r"\d[T ]\d\d:\d\d")


def moment(option: str, text: str, as_of: float, today: date, end: bool = False) -> float:
    """Unix seconds for --since or --until (`end`: a day counts to its end): a duration
    back from `as_of` (Unix s), an ISO time, or a day as `ask` reads one, words read as
    of `today` (the --as-of day)."""
    value = text.strip()
    try:
        return as_of - parse_duration(value)
    except NewsbotError:
        pass
    if _TIME_OF_DAY.search(value):
        try:
            return datetime.fromisoformat(value).timestamp()  # a naive time is local time
        except ValueError:
            raise ConfigError(
                f"{option}: {value} is not a time; write e.g. 2026-12-01T08:00"
            ) from None
    try:
        day = read_day(option, value, today)
    except ConfigError:
        raise ConfigError(
            f"{option}: can't read {value!r}; write a date (2026-12-01, yesterday, last week, "
            "3 days ago) or a duration (24h, 2d)"
        ) from None
    assert day is not None  # read_day only returns None for no value
    return _midnight(day + timedelta(days=1) if end else day)


def as_of(text: str | None, now: float) -> tuple[date, float]:
    """The day --as-of names (today when not given) and its moment: now when it is
    today, else the end of that day."""
    today = datetime.fromtimestamp(now).date()
    day = read_day("--as-of", text, today) or today
    return day, now if day == today else _midnight(day + timedelta(days=1))


def _midnight(day: date) -> float:
    return datetime.combine(day, datetime.min.time()).timestamp()


@click.command()
@click.option(
    "--since",
    default="24h",
    show_default=True,
    help="From when: a date (2026-12-01, yesterday, last week, 3 days ago) or a duration (24h).",
)
@click.option("--until", help="Up to when, that day included (default: --as-of).")
@click.option(
    "--as-of",
    "as_of_day",
    metavar="DATE",
    help="Read dates in words as of this day (default: today).",
)
@click.option(
    "--by",
    type=click.Choice(["date", "ingested"]),
    default="date",
    show_default=True,
    help="Select by article date (undated ones by ingest time), or by ingest time.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the digest as one JSON object.")
@with_settings
def digest(
    settings: Settings,
    since: str,
    until: str | None,
    as_of_day: str | None,
    by: str,
    as_json: bool,
) -> None:
    """The stories of the articles of a window, newest first."""
    from bot.digest import build_digest, digest_text
    from index.search.stories import Window
    from index.store.chunks import open_existing

    day, reference = as_of(as_of_day, time.time())
    start = moment("--since", since, reference, day)
    stop = moment("--until", until, reference, day, end=True) if until else reference
    if start >= stop:
        raise ConfigError(f"--since {since} is not before --until {until or '--as-of'}")
    window = Window(start, stop, "ingested" if by == "ingested" else "date")
    store = open_existing(settings.data_dir, settings.store)
    found = build_digest(store, settings.digest, window)
    if as_json:
        click.echo(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        click.echo(digest_text(found))
