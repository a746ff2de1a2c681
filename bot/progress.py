"""A rich progress bar for ingest: files, articles, chunks and chunks per second."""

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)


class RichIngestProgress:
    """Implements `index.ingest.IngestProgress` on a rich progress display (stderr)."""

    def __init__(self) -> None:
        console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[articles]} articles · {task.fields[chunks]} chunks"),
            TextColumn("· {task.fields[rate]:.0f} chunks/s"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task("ingest", total=None, articles=0, chunks=0, rate=0.0)
        self.articles = 0
        self.chunks = 0

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
        self.progress.update(self.task, total=count)

    def file_done(self, path: Path) -> None:
        self.progress.advance(self.task)

    def article_done(self) -> None:
        self.articles += 1
        self.progress.update(self.task, articles=self.articles)

    def chunks_stored(self, count: int) -> None:
        self.chunks += count
        elapsed = self.progress.tasks[0].elapsed or 0.0
        rate = self.chunks / elapsed if elapsed else 0.0
        self.progress.update(self.task, chunks=self.chunks, rate=rate)
