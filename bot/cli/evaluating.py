"""`newsbot eval`: retrieval and answer quality on a labelled question set."""

import json
from pathlib import Path

import click

from bot.cli.options import MODE, with_settings
from bot.config import Settings


@click.command(name="eval")
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

    from bot.cli.progress import RichIngestProgress, eval_table, query_progress
    from bot.evaluation import eval_index, run
    from bot.evaluation import queries as labelled_set
    from bot.service import AnsweringService

    corpus_ids = labelled_set.read_corpus_ids(corpus)
    labelled = labelled_set.read_queries(queries, corpus_ids)
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as scratch:
        settings = eval_index.eval_settings(settings, corpus, index_dir or Path(scratch))
        with RichIngestProgress() as progress:
            ingest_s = eval_index.prepare_index(settings, corpus, progress)
        service = AnsweringService.open(settings, mode)
        with query_progress(len(labelled)) as advance:
            report = run.evaluate(service, labelled, k, not no_dates, advance)
    report.ingest_s = ingest_s
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        eval_table(report, k)
