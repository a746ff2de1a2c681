"""Rich progress bars and tables: ingest (articles, files, chunks/s) and eval."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from bot.evaluation.run import EvalReport


class RichIngestProgress:
    """Implements `index.ingest.IngestProgress` on a rich progress display (stderr):
    articles done out of those read so far (one JSON Lines file of 254 records is 254
    articles, not one file), files done, and chunks embedded out of those cut so far,
    which moves within a big article."""

    def __init__(self) -> None:
        console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description:<6}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task("ingest", total=None, detail="articles")
        self.embedding = self.progress.add_task(
            "embed", total=0, detail="chunks embedded", visible=False
        )
        self.articles = 0  # found so far
        self.files = 0
        self.files_read = 0
        self.chunks = 0
        self.rate = 0.0

    def __enter__(self) -> "RichIngestProgress":
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def files_found(self, count: int) -> None:
        self.files = count
        self._show_counts()

    def file_done(self, path: Path) -> None:
        self.files_read += 1
        self._show_counts()

    def articles_found(self, count: int) -> None:
        self.articles += count
        self.progress.update(self.task, total=self.articles)
        self._show_counts()

    def article_done(self) -> None:
        self.progress.advance(self.task)

    def chunks_planned(self, count: int) -> None:
        total = (self.progress.tasks[self.embedding].total or 0) + count
        self.progress.update(self.embedding, total=total, visible=True)

    def chunks_embedded(self, count: int) -> None:
        self.progress.advance(self.embedding, count)

    def chunks_stored(self, count: int) -> None:
        self.chunks += count
        elapsed = self.progress.tasks[self.task].elapsed or 0.0
        self.rate = self.chunks / elapsed if elapsed else 0.0
        self._show_counts()

    def _show_counts(self) -> None:
        files = f"{self.files_read}/{self.files} files · " if self.files else ""
        detail = f"articles · {files}{self.chunks} chunks · {self.rate:.0f}/s"
        self.progress.update(self.task, detail=detail)


@contextmanager
def query_progress(total: int) -> Iterator[Callable[[], None]]:
    """A progress bar over eval queries; yields the function that advances it."""
    with _counting("eval", total, TimeRemainingColumn()) as advance:
        yield advance


@contextmanager
def fetch_progress(total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over URLs being fetched; yields the function called per URL done."""
    with _counting("fetch", total, TimeElapsedColumn()) as advance:
        yield lambda _url: advance()


@contextmanager
def _counting(label: str, total: int, clock: ProgressColumn) -> Iterator[Callable[[], None]]:
    """A transient bar counting `total` steps on stderr, hidden when it is not a terminal."""
    console = Console(stderr=True)
    progress = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        clock,
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task(label, total=total)
    with progress:
        yield lambda: progress.advance(task)


def eval_table(report: "EvalReport", k: int) -> None:
    """Print the evaluation figures as a table on stdout."""
    table = Table(
        title=f"newsbot eval ({report.n} questions, dates {'on' if report.dates else 'off'})"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    withheld = report.withheld_n is not None
    retrieval = (lambda _: "n/a") if withheld else fmt  # the gold documents are gone
    for cutoff in sorted({1, 5, 10, k}):
        table.add_row(f"hit@{cutoff}", retrieval(report.hits.get(cutoff)))
    table.add_row("MRR@10", retrieval(report.mrr10))
    table.add_row("answer contained", fmt(report.answer_contained))
    table.add_row("abstained", fmt(report.abstained))
    if report.grounding_replaced is not None:
        table.add_row("LLM answers replaced by grounding", fmt(report.grounding_replaced))
    table.add_row("query p50 / p95", f"{report.p50_ms:.0f} / {report.p95_ms:.0f} ms")
    table.add_row("ingest", f"{report.ingest_s:.1f} s")
    if withheld:
        table.add_section()
        table.add_row("[bold]Unanswerable (gold withheld)", "")
        table.add_row("n", str(report.withheld_n))
        table.add_row("abstained", fmt(report.withheld_abstained))
        table.add_row("wrong", fmt(report.withheld_wrong))
        table.add_row("right (answer from another article)", fmt(report.withheld_right))
    Console().print(table)
