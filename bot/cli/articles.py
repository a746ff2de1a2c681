"""The articles in the index: `ingest`, `articles` (once `sources`), `remove`, `stats`,
and `migrate` to a Chroma server. Every write goes through `index.ingest`, which holds
the write lock and keeps the recorded model and BM25 in step."""

import sys
from pathlib import Path

import click

from bot.cli.options import as_batch_job, with_settings
from bot.config import Settings


@click.command()
@click.argument("paths", nargs=-1, required=True)
@with_settings
def ingest(settings: Settings, paths: tuple[str, ...]) -> None:
    """Add articles (.txt .md .html .json .jsonl files or folders, or http(s) URLs)."""
    as_batch_job(settings)
    from bot.cli.progress import RichIngestProgress, fetch_progress
    from index.ingest.pipeline import ingest_paths
    from index.web.following import fetch_urls
    from index.web.pages import is_url

    urls = [p for p in paths if is_url(p)]
    with fetch_progress(len(urls)) as done:
        articles, problems = fetch_urls(settings, urls, done) if urls else ([], [])
    files = [Path(p) for p in paths if not is_url(p)]
    with RichIngestProgress() as progress:
        report = ingest_paths(settings, files, progress, articles)
    report.problems[:0] = problems
    for problem in report.problems + report.duplicates:  # duplicates are warnings only
        click.echo(f"skipped {problem}", err=True)
    for note in report.notes:
        click.echo(f"note {note}", err=True)
    click.echo(report.summary())
    if report.problems:
        sys.exit(1)


@click.command(name="articles")
@with_settings
def list_articles(settings: Settings) -> None:
    """List the indexed articles: id, date, chunks and title."""
    from index.store.catalog import list_articles as listed

    articles = listed(settings)
    if not articles:
        click.echo("No articles indexed yet; add some with: newsbot ingest PATH")
        return
    width = max(len(a.id) for a in articles)
    for a in articles:
        click.echo(f"{a.id:<{width}}  {(a.date or '-')[:10]:<10}  {a.chunks:>4}  {a.title}")
    click.echo(f"{len(articles)} articles")


@click.command()
@click.argument("article_id")
@with_settings
def remove(settings: Settings, article_id: str) -> None:
    """Delete one article (by the id `newsbot articles` shows) from the index."""
    from index.ingest.pipeline import remove_article

    removed = remove_article(settings, article_id)
    click.echo(f"removed {article_id} ({removed} chunks)")


@click.command()
@with_settings
def stats(settings: Settings) -> None:
    """Show article and chunk counts, the date range, the model, the cut and the store."""
    from index.store.catalog import index_stats

    s = index_stats(settings)
    click.echo(f"articles:   {s.articles}")
    click.echo(f"chunks:     {s.chunks}")
    if s.first_date:
        click.echo(f"dates:      {s.first_date[:10]} to {s.last_date and s.last_date[:10]}")
    click.echo(f"model:      {s.model}")
    if s.cut:
        click.echo(f"cut:        {s.cut}")
    click.echo(f"store:      {s.location}")


@click.command()
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
    from index.ingest.migrate import migrate_to_server

    given = {"host": host, "port": port}
    server = settings.store.model_copy(
        update={"backend": "server"} | {k: v for k, v in given.items() if v is not None}
    )
    report = migrate_to_server(settings, server)
    click.echo(report.summary())
    click.echo(f"now set store.backend: server (host {server.host}, port {server.port})")
