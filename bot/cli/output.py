"""How the command line prints answers and their sources."""

from collections.abc import Iterator

import click

from bot.answer import Answer


def print_stream(items: Iterator[str | Answer]) -> None:
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
                if item.dates:  # the streamed text came before the dates were added
                    click.echo(f"\n{item.dates}")
                print_sources(item)
                return
            click.echo()
        print_answer(item)


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
