"""The `newsbot` command line; `feeds` lives in cli_feeds.py, shared options in cli_options.py.

Heavy libraries are imported inside the commands, so `newsbot --help` stays instant.
Errors meant for a person are printed as one line; configuration errors exit with 2,
other user errors with 1.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from bot.cli_feeds import feeds
from bot.cli_options import MODE, with_settings, with_time_scope
from bot.cli_output import print_stream
from bot.config import ConfigError, Settings
from index.errors import NewsbotError

_QUIET_LIBRARIES = {
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
}


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


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@with_settings
def ingest(settings: Settings, paths: tuple[str, ...]) -> None:
    """Add articles (.txt .md .html .json .jsonl files or folders, or http(s) URLs)."""
    from bot.indexing import ingest_paths
    from bot.news_sources import fetch_urls
    from bot.progress import RichIngestProgress, fetch_progress
    from index.web import is_url

    urls = [p for p in paths if is_url(p)]
    with fetch_progress(len(urls)) as done:
        articles, problems = fetch_urls(settings, urls, done) if urls else ([], [])
    files = [Path(p) for p in paths if not is_url(p)]
    with RichIngestProgress() as progress:
        report = ingest_paths(settings, files, progress, articles)
    report.problems[:0] = problems
    for problem in report.problems:
        click.echo(f"skipped {problem}", err=True)
    click.echo(report.summary())
    if report.problems:
        sys.exit(1)


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@MODE
@with_time_scope
@with_settings
def ask(settings: Settings, question: str, as_json: bool, scope: Any, mode: str | None) -> None:
    """Answer one question, with numbered sources."""
    from bot.service import AnsweringService

    service = AnsweringService.open(settings, mode)
    if as_json:
        answer = service.ask(_clean_question(question), scope=scope)
        click.echo(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False))
    else:
        print_stream(service.stream(_clean_question(question), scope=scope))


@cli.command()
@MODE
@with_time_scope
@with_settings
def chat(settings: Settings, scope: Any, mode: str | None) -> None:
    """Ask questions interactively; follow-ups use the previous turns."""
    from bot.service import AnsweringService

    service = AnsweringService.open(settings, mode)
    conversation = service.new_conversation()
    click.echo("Ask about the indexed news. /reset forgets the conversation, /quit leaves.")
    while True:
        try:
            line = input("\nyou> ").strip()
        except EOFError:
            click.echo()
            return
        if line in {"/quit", "/exit"}:
            return
        if line == "/reset":
            conversation.clear()
            click.echo("Conversation forgotten.")
        elif line:
            try:
                print_stream(service.stream(_clean_question(line), conversation, scope))
            except NewsbotError as exc:
                click.echo(f"newsbot: {exc}", err=True)


@cli.command(name="eval")
@click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    required=True,
    help="Articles, one JSON object per line: doc_id, text, title?, date?, url?",
)
@click.option(
    "--queries",
    type=click.Path(path_type=Path),
    required=True,
    help="Questions: question_id, question, question_date?, answers?, gold_doc_ids?",
)
@click.option(
    "--k",
    "k",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Documents considered for hit@k and MRR.",
)
@click.option("--json", "as_json", is_flag=True, help="End with the figures as one JSON line.")
@click.option(
    "--index-dir",
    type=click.Path(path_type=Path),
    help="Keep the index here and reuse it while the corpus is unchanged.",
)
@click.option("--no-dates", is_flag=True, help="Ignore question dates (no date preference).")
@MODE
@with_settings
def evaluate(
    settings: Settings,
    corpus: Path,
    queries: Path,
    k: int,
    as_json: bool,
    index_dir: Path | None,
    no_dates: bool,
    mode: str | None,
) -> None:
    """Measure retrieval (hit@k, MRR@10) and answers on a labelled question set."""
    import tempfile

    from bot import evaluation
    from bot.progress import RichIngestProgress, eval_table, query_progress
    from bot.service import AnsweringService

    corpus_ids = evaluation.read_corpus_ids(corpus)
    labelled = evaluation.read_queries(queries, corpus_ids)
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as scratch:
        settings = evaluation.eval_settings(settings, corpus, index_dir or Path(scratch))
        with RichIngestProgress() as progress:
            ingest_s = evaluation.prepare_index(settings, corpus, progress)
        service = AnsweringService.open(settings, mode)
        with query_progress(len(labelled)) as advance:
            report = evaluation.evaluate(service, labelled, k, not no_dates, advance)
    report.ingest_s = ingest_s
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        eval_table(report, k)


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
    replicas behind a load balancer can serve one bot; they share telegram.state_file.
    """
    from bot.telegram.app import run

    run(settings, webhook_url=webhook_url, listen=listen)


@cli.command()
@with_settings
def sources(settings: Settings) -> None:
    """List the indexed articles: id, date, chunks and title."""
    from index.store import open_existing

    articles = sorted(
        open_existing(settings.data_dir, settings.store).articles().values(),
        key=lambda a: (a.date or "", a.id),
        reverse=True,
    )
    if not articles:
        click.echo("No articles indexed yet; add some with: newsbot ingest PATH")
        return
    width = max(len(a.id) for a in articles)
    for a in articles:
        click.echo(f"{a.id:<{width}}  {(a.date or '-')[:10]:<10}  {a.chunks:>4}  {a.title}")
    click.echo(f"{len(articles)} articles")


@cli.command()
@click.argument("article_id")
@with_settings
def remove(settings: Settings, article_id: str) -> None:
    """Delete one article (by the id `newsbot sources` shows) from the index."""
    from index.lexical import sync_lexical
    from index.store import open_existing, write_lock

    with write_lock(settings.data_dir, settings.ingest.lock_timeout_s):
        store = open_existing(settings.data_dir, settings.store)
        removed = store.remove(article_id)
        if removed:
            sync_lexical(store)
    if not removed:
        raise NewsbotError(f"no article with id '{article_id}'; `newsbot sources` lists them")
    click.echo(f"removed {article_id} ({removed} chunks)")


@cli.command()
@click.option(
    "--to",
    "to",
    type=click.Choice(["server"]),
    required=True,
    help="Copy the embedded index into the Chroma server set in the store section.",
)
@click.option("--host", help="Override store.host.")
@click.option("--port", type=click.IntRange(1, 65535), help="Override store.port.")
@with_settings
def migrate(settings: Settings, to: str, host: str | None, port: int | None) -> None:
    """Copy the embedded index into a Chroma server, reusing its vectors; safe to re-run."""
    from index.lexical import sync_lexical
    from index.migrate import migrate as copy_index
    from index.store import ChunkStore, open_existing

    given = {"host": host, "port": port}
    server = settings.store.model_copy(
        update={"backend": "server"} | {k: v for k, v in given.items() if v is not None}
    )
    source = open_existing(
        settings.data_dir, settings.store.model_copy(update={"backend": "embedded"})
    )
    target = ChunkStore(settings.data_dir, backend=server)
    model = source.embedding_model() or settings.embedding.model
    if not target.require_model(model):
        target.record_model(model)
    report = copy_index(source, target)
    sync_lexical(target)
    click.echo(report.summary())
    click.echo(f"now set store.backend: server (host {server.host}, port {server.port})")


@cli.command()
@with_settings
def stats(settings: Settings) -> None:
    """Show article and chunk counts, the date range, the model and the store location."""
    from bot.service import AnsweringService

    s = AnsweringService.open(settings).stats()
    click.echo(f"articles:   {s.articles}")
    click.echo(f"chunks:     {s.chunks}")
    if s.first_date:
        click.echo(f"dates:      {s.first_date[:10]} to {s.last_date and s.last_date[:10]}")
    click.echo(f"model:      {s.model}")
    click.echo(f"store:      {s.location}")


def _clean_question(question: str) -> str:
    cleaned = " ".join(question.split())
    if not cleaned:
        raise NewsbotError("the question is empty")
    return cleaned


cli.add_command(feeds)


def main() -> None:
    """Entry point of the `newsbot` console script."""
    for key, value in _QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    cli(prog_name="newsbot")
