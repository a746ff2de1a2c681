"""How the command line prints answers and their sources."""

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from bot.answer import Answer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

DRAFT_REFRESHES_PER_S = 8


def print_stream(items: Iterator[str | Answer], console: "Console | None" = None) -> None:
    """Print the final answer once; on a terminal, show the LLM's text live until then.

    The streamed text is the sentences that passed the grounding check so far; the final
    answer may still replace them with the extractive answer or an abstention. So a
    terminal shows them in a transient display, erased when the final answer arrives,
    and anything else (a pipe, a script) gets nothing but the final answer. `console`
    overrides the terminal check.
    """
    if console is None and not sys.stdout.isatty():
        answer = _final(items)
    else:
        answer = _final_after_draft(items, console)
    print_answer(answer)


def _final(items: Iterator[str | Answer], answer: Answer | None = None) -> Answer:
    """The stream's final answer, read to its end: the service extends the conversation
    only after yielding it."""
    for item in items:
        if isinstance(item, Answer):
            answer = item
    if answer is None:
        raise RuntimeError("the answer stream ended without an answer")
    return answer


def _final_after_draft(items: Iterator[str | Answer], console: "Console | None") -> Answer:
    """The final answer, the text streamed before it shown live and erased once it arrives."""
    from rich.console import Console
    from rich.live import Live

    console = console or Console()
    draft = ""
    answer: Answer | None = None
    live: Live | None = None
    try:
        for item in items:
            if isinstance(item, Answer):
                answer = item
                break
            draft += item
            if live is None and draft.strip():
                live = Live(
                    console=console, transient=True, refresh_per_second=DRAFT_REFRESHES_PER_S
                )
                live.start()
            if live is not None:
                live.update(_tail(draft, console))
    finally:
        if live is not None:
            live.stop()
    return _final(items, answer)


def _tail(draft: str, console: "Console") -> "Text":
    """The draft's last lines that fit the terminal: the newest text stays in view, and a
    display no taller than the screen can be erased."""
    from rich.text import Text

    lines = Text(draft.strip()).wrap(console, console.width)
    return Text("\n").join(lines[-max(console.height - 1, 1) :])


def print_answer(answer: Answer) -> None:
    """The answer, a label when it is a fallback, and its sources."""
    if answer.notice:
        click.echo(f"newsbot: {answer.notice}", err=True)
    if answer.mode == "extractive-fallback":
        click.echo("[extractive answer]")
    click.echo(answer.text)
    print_sources(answer)


def print_sources(answer: Answer) -> None:
    """Each citation: number, title, source and date, id, each quoted sentence and link."""
    if not answer.citations:
        return
    click.echo(click.style("\nSources", bold=True))
    for c in answer.citations:
        details = ", ".join(x for x in (c.source, (c.date or "")[:10]) if x)
        click.echo(
            f"[{c.n}] {c.title}" + (f" ({details})" if details else "") + f"  id={c.article_id}"
        )
        for quote in c.quoted():
            click.echo(f'    "{quote.snippet}"')
        if c.url:
            click.echo(f"    {c.url}")
