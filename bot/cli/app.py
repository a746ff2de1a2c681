"""The `newsbot` command group: one-line user errors, and a module per command group.

Heavy libraries are imported inside the commands, so `newsbot --help` stays instant.
Errors meant for a person are printed as one line; configuration errors exit with 2,
other user errors with 1.
"""

from typing import Any

import click

from bot.cli import articles, asking, digests, evaluating, feeds
from bot.cli.options import alias
from bot.config import ConfigError
from index.errors import NewsbotError


class NewsbotGroup(click.Group):
    """Turns user errors into one-line messages with meaningful exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"newsbot: {exc}", err=True)
            ctx.exit(2)
        except NewsbotError as exc:
            click.echo(f"newsbot: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("newsbot: interrupted; work finished so far is kept", err=True)
            ctx.exit(130)


@click.group(cls=NewsbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsbot")
def cli() -> None:
    """Grounded, cited answers over your news articles."""


for command in (
    articles.ingest,
    asking.ask,
    asking.chat,
    evaluating.evaluate,
    articles.list_articles,
    articles.remove,
    articles.stats,
    articles.migrate,
    feeds.feeds,
    digests.digest,
):
    cli.add_command(command)
alias(cli, articles.list_articles, "sources")
