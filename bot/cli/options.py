"""Options shared by `newsbot` commands: --config/--data-dir, --mode, the time scope, aliases."""

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.config import Settings, load_settings

MODE = click.option(
    "--mode", type=click.Choice(["extractive", "llm"]), help="Override answer.mode."
)


def with_time_scope(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --as-of, --since and --until, and pass a `TimeScope` as `scope`."""
    day = click.DateTime(formats=["%Y-%m-%d"])

    @click.option("--as-of", type=day, help="Prefer articles near this date (default: today).")
    @click.option("--since", type=day, help="Only articles dated on or after this day.")
    @click.option("--until", type=day, help="Only articles dated on or before this day.")
    @functools.wraps(command)
    def wrapper(as_of: Any, since: Any, until: Any, **kwargs: Any) -> Any:
        from datetime import date

        from index.search.retriever import TimeScope

        scope = TimeScope(
            as_of=as_of.date() if as_of else date.today(),
            since=since.date() if since else None,
            until=until.date() if until else None,
        )
        return command(scope=scope, **kwargs)

    return wrapper


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
