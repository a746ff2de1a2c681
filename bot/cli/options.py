"""Options shared by `newsbot` commands: --config/--data-dir, --mode, the time scope, aliases."""

import contextlib
import functools
import os
import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import click

from bot.config import ConfigError, Settings, load_settings, unknown_variables

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MODE = click.option(
    "--mode", type=click.Choice(["extractive", "llm"]), help="Override answer.mode."
)


def with_time_scope(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --as-of, --since and --until, and pass a `TimeScope` as `scope`.

    Dates are YYYY-MM-DD or words dateparser reads ("yesterday", "last monday"). They
    are read here rather than by a click type, so a bad one is one `newsbot:` line.
    """

    @click.option(
        "--as-of", metavar="DATE", help="Prefer articles near this date (default: today)."
    )
    @click.option("--since", metavar="DATE", help="Only articles dated on or after this day.")
    @click.option("--until", metavar="DATE", help="Only articles dated on or before this day.")
    @functools.wraps(command)
    def wrapper(as_of: str | None, since: str | None, until: str | None, **kwargs: Any) -> Any:
        from index.search.retriever import TimeScope

        today = date.today()
        first, last = read_day("--since", since, today), read_day("--until", until, today)
        if first and last and first > last:
            raise ConfigError(f"--since {first} is after --until {last}; no article can match")
        scope = TimeScope(as_of=read_day("--as-of", as_of, today) or today, since=first, until=last)
        return command(scope=scope, **kwargs)

    return wrapper


def read_day(option: str, value: str | None, today: date) -> date | None:
    """A day given as YYYY-MM-DD or in words, read as of `today`; ConfigError when neither."""
    if value is None:
        return None
    text = value.strip()
    if _ISO_DAY.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise ConfigError(f"{option}: {text} is not a date ({exc})") from None
    import dateparser

    read = dateparser.parse(
        text,
        languages=["en"],
        settings={"PREFER_DATES_FROM": "past", "RELATIVE_BASE": datetime.combine(today, time())},
    )
    if read is None:
        raise ConfigError(
            f"{option}: can't read {text!r} as a date; use YYYY-MM-DD, "
            "or e.g. yesterday, last monday, 3 days ago"
        )
    return read.date()


def with_settings(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --config and --data-dir, and pass the loaded `Settings` as `settings`."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        help="Config file (default: $NEWSBOT_CONFIG or ./config.yaml).",
    )
    @click.option(
        "--data-dir",
        type=click.Path(path_type=Path),
        help="Data directory holding the index (default: config's data_dir).",
    )
    @functools.wraps(command)
    def wrapper(config_path: Path | None, data_dir: Path | None, **kwargs: Any) -> Any:
        settings = load_settings(config_path, data_dir=data_dir)
        for warning in unknown_variables(os.environ):
            click.echo(f"newsbot: warning: {warning}", err=True)
        configure_logging(settings)
        return command(settings=settings, **kwargs)

    return wrapper


def configure_logging(settings: Settings) -> None:
    """Send log lines where the config says, at its level."""
    import logging

    logging.basicConfig(
        level=settings.logging.level,
        filename=settings.logging.file,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        # some libraries (bm25s) set their own loggers to DEBUG; the handler decides
        handler.setLevel(settings.logging.level)


def alias(group: click.Group, command: click.Command, name: str) -> None:
    """Register `command` under an old `name` too, hidden from --help (kept for scripts)."""
    import copy

    hidden = copy.copy(command)
    hidden.hidden = True
    group.add_command(hidden, name)


def as_batch_job(settings: Settings) -> None:
    """Lower this process's CPU priority by `ingest.nice`, so that a bot answering on the
    same machine keeps its CPU while an ingest runs (#27); alone, the ingest runs at full
    speed. Where the OS refuses, the ingest simply runs at the priority it has."""
    if settings.ingest.nice and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(settings.ingest.nice)
