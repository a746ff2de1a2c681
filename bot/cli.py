"""The `newsbot` command line: ingest, ask, chat, sources, remove, stats, eval, migrate, telegram.

Heavy libraries are imported inside the commands, so `newsbot --help` stays instant.
Errors meant for a person are printed as one line; configuration errors exit with 2,
other user errors with 1.
"""

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from bot.answer import Answer
from bot.config import ConfigError, Settings, load_settings
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


_MODE = click.option(
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

        from index.retriever import TimeScope

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
        _configure_logging(settings)
        return command(settings=settings, **kwargs)

    return wrapper


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
    from bot.progress import RichIngestProgress, fetch_progress
    from bot.sources import fetch_urls
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
@_MODE
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
        _print_stream(service.stream(_clean_question(question), scope=scope))


@cli.command()
@_MODE
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
                _print_stream(service.stream(_clean_question(line), conversation, scope))
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
@_MODE
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
        settings = settings.model_copy(update={"data_dir": index_dir or Path(scratch)})
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
    report = copy_index(source, target)
    sync_lexical(target)
    click.echo(report.summary())
    click.echo(f"now set store.backend: server (host {server.host}, port {server.port})")


@cli.group()
def feeds() -> None:
    """Follow RSS and Atom feeds: add, list, remove, refresh."""


@feeds.command(name="add")
@click.argument("url")
@with_settings
def feeds_add(settings: Settings, url: str) -> None:
    """Follow a feed (checked by fetching it); `feeds refresh` ingests its entries."""
    from bot.sources import make_fetcher
    from index.feedlist import FeedList
    from index.feeds import check_feed

    with make_fetcher(settings) as fetcher:
        parsed = check_feed(fetcher.get(url))
    feed, new = FeedList(settings.data_dir).add(url, parsed.title)
    verb = "added" if new else "already following"
    click.echo(f"{verb} feed {feed.id}: {feed.title or url} ({len(parsed.entries)} entries)")


@feeds.command(name="list")
@with_settings
def feeds_list(settings: Settings) -> None:
    """List the followed feeds: id, title, URL and state."""
    from bot.sources import list_feeds

    followed = list_feeds(settings)
    for feed in followed:
        click.echo(feed.describe())
    click.echo(f"{len(followed)} feeds" if followed else "No feeds yet: newsbot feeds add URL")


@feeds.command(name="remove")
@click.argument("feed")
@with_settings
def feeds_remove(settings: Settings, feed: str) -> None:
    """Stop following a feed (by id or URL); its articles stay in the index."""
    from bot.sources import remove_feed

    removed = remove_feed(settings, feed)
    click.echo(f"removed feed {removed.id}: {removed.title or removed.url}")


@feeds.command(name="refresh")
@click.argument("feed_keys", nargs=-1, metavar="[FEED]...")
@click.option("--every", help="Keep refreshing at this interval, e.g. 30m, 2h, 90s.")
@with_settings
def feeds_refresh(settings: Settings, feed_keys: tuple[str, ...], every: str | None) -> None:
    """Fetch new entries of every followed feed (or the given ids/URLs) and ingest them."""
    import time

    from bot.progress import RichIngestProgress
    from bot.sources import refresh_feeds
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


def _print_stream(items: Iterator[str | Answer]) -> None:
    """Print LLM text as it arrives, then the checked answer and its sources."""
    streamed = False
    for item in items:
        if isinstance(item, str):
            click.echo(item, nl=False)
            streamed = True
            continue
        if streamed:
            click.echo()
            if item.mode == "llm":
                _print_sources(item)
                return
            click.echo()
        _print_answer(item)


def _print_answer(answer: Answer) -> None:
    if answer.notice:
        click.echo(f"newsbot: {answer.notice}", err=True)
    if answer.mode == "extractive-fallback":
        click.echo("[extractive answer]")
    click.echo(answer.text)
    _print_sources(answer)


def _print_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    click.echo(click.style("\nSources", bold=True))
    for c in answer.citations:
        details = ", ".join(x for x in (c.source, (c.date or "")[:10]) if x)
        click.echo(
            f"[{c.n}] {c.title}" + (f" ({details})" if details else "") + f"  id={c.article_id}"
        )
        click.echo(f'    "{c.snippet}"')
        if c.url:
            click.echo(f"    {c.url}")


def _configure_logging(settings: Settings) -> None:
    import logging

    logging.basicConfig(
        level=settings.logging.level,
        filename=settings.logging.file,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        # some libraries (bm25s) set their own loggers to DEBUG; the handler decides
        handler.setLevel(settings.logging.level)


def main() -> None:
    """Entry point of the `newsbot` console script."""
    for key, value in _QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    cli(prog_name="newsbot")
