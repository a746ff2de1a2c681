"""The `newsbot` console script: the CLI's commands, plus `newsbot telegram`.

This is the one place where the two front ends meet; `bot.cli` and `bot.telegram`
never import each other.
"""

import gc
import os

import click

from bot.cli.app import cli
from bot.cli.options import with_settings
from bot.config import Settings

QUIET_LIBRARIES = {
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
}


@cli.command()
@click.option(
    "--webhook",
    "webhook_url",
    metavar="URL",
    help="Receive updates by webhook at this public https URL instead of long polling.",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default="0.0.0.0:8443",
    show_default=True,
    help="Where the webhook server listens (with --webhook).",
)
@with_settings
def telegram(settings: Settings, webhook_url: str | None, listen: str) -> None:
    """Run the Telegram bot; the token comes from TELEGRAM_BOT_TOKEN.

    Without --webhook it long-polls (one process per bot). With --webhook, any number of
    replicas behind a load balancer can serve one bot; they share the `state` database
    (SQLite on one host, Postgres across hosts: docs/scaling.md).
    """
    from bot.telegram.app import run

    run(settings, webhook_url=webhook_url, listen=listen)


def main() -> None:
    """Entry point of the `newsbot` console script."""
    for key, value in QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    try:
        cli(prog_name="newsbot")
    finally:
        # What is alive now lives until the process ends: spare the interpreter's
        # shutdown from searching all of it for cycles, which cost a cold `ask` more
        # CPU than its retrieval (benchmarks/README.md, "Cold start and ingest stall").
        gc.freeze()
