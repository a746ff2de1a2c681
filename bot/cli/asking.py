"""`newsbot ask` and `newsbot chat`: questions answered with numbered sources."""

import json
from typing import Any

import click

from bot.cli.options import MODE, with_settings, with_time_scope
from bot.cli.output import print_stream
from bot.config import Settings
from index.errors import NewsbotError


@click.command()
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
        answer = service.ask(clean_question(question), scope=scope)
        click.echo(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False))
    else:
        print_stream(service.stream(clean_question(question), scope=scope))


CHAT_HELP = """Type a question in plain words; the answer quotes the articles, each [n] a source.
Follow-ups use the last few questions: "What did he say next?"
/reset  forget the conversation
/help   this list
/quit   leave (or Ctrl-D)"""


@click.command()
@MODE
@with_time_scope
@with_settings
def chat(settings: Settings, scope: Any, mode: str | None) -> None:
    """Ask questions interactively; follow-ups use the previous turns."""
    from bot.service import AnsweringService

    service = AnsweringService.open(settings, mode)
    conversation = service.new_conversation()
    click.echo("Ask about the indexed news. /help lists the commands, /quit leaves.")
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
        elif line == "/help":
            click.echo(CHAT_HELP)
        elif line.startswith("/"):
            click.echo(f"Unknown command {line.split()[0]}; /help lists the commands.")
        elif line:
            question = clean_question(line)
            prompt = conversation.clarification(question)
            if prompt is not None:
                click.echo(prompt)
                continue
            try:
                print_stream(service.stream(question, conversation, scope))
            except NewsbotError as exc:
                click.echo(f"newsbot: {exc}", err=True)


def clean_question(question: str) -> str:
    """The question with its whitespace collapsed; NewsbotError when empty."""
    cleaned = " ".join(question.split())
    if not cleaned:
        raise NewsbotError("the question is empty")
    return cleaned
