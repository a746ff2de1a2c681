"""`newsbot eval`: retrieval and answer quality on a labelled question set."""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.options import MODE, with_settings
from bot.config import Settings

if TYPE_CHECKING:
    from bot.evaluation.queries import Query


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
@click.option(
    "--details",
    type=click.Path(path_type=Path),
    help="Write one JSON line per question: the answer, its citations and the checks.",
)
@click.option(
    "--withhold",
    type=click.IntRange(1, None),
    help="Remove the gold documents of N sampled questions and ask those: an unanswerable set.",
)
@click.option(
    "--seed",
    type=int,
    default=13,
    show_default=True,
    help="The seed of the --withhold sample.",
)
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
    details: Path | None,
    withhold: int | None,
    seed: int,
    mode: str | None,
) -> None:
    """Measure retrieval (hit@k, MRR@10) and answers on a labelled question set.

    With --withhold, measure abstention on questions whose gold documents are withheld.
    """
    import tempfile
    from contextlib import nullcontext

    from bot.cli.progress import RichIngestProgress, eval_table, query_progress
    from bot.evaluation import eval_index, run
    from bot.evaluation import queries as labelled_set
    from bot.service import AnsweringService

    corpus_ids = labelled_set.read_corpus_ids(corpus)
    labelled = labelled_set.read_queries(queries, corpus_ids)
    with (
        run.DetailsLog(details) if details else nullcontext() as log,
        tempfile.TemporaryDirectory(prefix="newsbot-eval-") as scratch,
    ):
        data_dir = index_dir or Path(scratch)
        if withhold:
            labelled, corpus = _withhold(labelled, queries, corpus, data_dir, withhold, seed)
        settings = eval_index.eval_settings(settings, corpus, data_dir)
        with RichIngestProgress() as progress:
            ingest_s = eval_index.prepare_index(settings, corpus, progress)
        service = AnsweringService.open(settings, mode)
        with query_progress(len(labelled)) as advance:

            def answered(outcome: run.Outcome) -> None:
                if log:
                    log.write(outcome)
                advance()

            report = run.evaluate(service, labelled, k, not no_dates, answered, bool(withhold))
    report.ingest_s = ingest_s
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        eval_table(report, k)


def _withhold(
    labelled: list["Query"],
    queries: Path,
    corpus: Path,
    data_dir: Path,
    n: int,
    seed: int,
) -> tuple[list["Query"], Path]:
    """The withheld questions, and the corpus without their gold documents (in data_dir)."""
    from bot.evaluation import withheld
    from bot.evaluation.queries import EvalInputError

    questions = withheld.withheld_questions(labelled, n, seed)
    if not questions:
        raise EvalInputError(f"{queries}: no question has gold_doc_ids to withhold")
    if len(questions) < n:
        click.echo(
            f"newsbot: note: only {len(questions)} questions have gold_doc_ids; "
            f"withholding all of them, not {n}",
            err=True,
        )
    reduced = withheld.write_reduced_corpus(corpus, withheld.withheld_doc_ids(questions), data_dir)
    return questions, reduced
