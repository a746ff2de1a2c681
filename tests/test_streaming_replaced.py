"""A streamed LLM answer that the grounding check replaces is shown once, in the CLI.

The model is the scripted OpenAI-compatible server (harness.llm_server), standing in for
a capable model, which can't run here: it streams what a test scripts, an invented answer,
"I don't know." or a faithful answer, to the real `newsbot` console script over real HTTP.
A subprocess's stdout is a pipe, which gets only the final answer; the terminal test runs
the script on a pseudo-terminal, where the draft is drawn live and must be erased.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness.llm_server import Reply, ScriptedLLM
from harness.newsbot import clean_env, newsbot_script, run_newsbot

from bot.answer import NOT_FOUND, Answer
from bot.cli.output import print_stream

pytest.importorskip("langchain_openai", reason="the llm extra is not installed")

QUESTION = "What did Shalom cite?"
FAITHFUL = (
    "Shalom cited the 2001 Dolphinarium nightclub suicide bombing, in which many of the "
    "casualties were young immigrants from Russia [1]."
)
# A checked sentence, then one that cites [1] but names a person the source never
# mentions: the grounding check rejects it, and it is never shown.
INVENTED = (
    f"{FAITHFUL} Shalom said that Boris Yeltsin had planned the Dolphinarium bombing "
    "himself [1]. Lavrov agreed with him [1]."
)
REJECTED = "Boris Yeltsin"
TITLE = "Russian FM welcomes Israeli cooperation on terror"
ABSTENTION = (
    f"{NOT_FOUND} The closest article, which does not answer it: \u201c{TITLE}\u201d "
    "(Haaretz, 2004-09-06)."
)


def says(text: str) -> Reply:
    """A model that answers every prompt with `text`."""
    return lambda messages: text


@pytest.fixture(scope="module")
def model() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(says(FAITHFUL)) as server:
        yield server


@pytest.fixture
def scripted(model: ScriptedLLM) -> Iterator[ScriptedLLM]:
    """The module's model; a test scripts what it says (and how slowly) for itself."""
    yield model
    model.reply, model.delay_s = says(FAITHFUL), 0.0


@pytest.fixture(scope="module")
def config(
    model: ScriptedLLM, sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A config in LLM mode over the sample article, the model being the scripted one."""
    path = tmp_path_factory.mktemp("llm-cli") / "config.yaml"
    settings = {
        "data_dir": str(sample_data_dir),
        "answer": {"mode": "llm"},
        "llm": {"provider": "openai", "base_url": model.base_url, "model": "scripted"},
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def extractive_output(config: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """What `newsbot ask` prints for QUESTION in extractive mode."""
    cwd = tmp_path_factory.mktemp("extractive")
    result = run_newsbot("ask", "--mode", "extractive", QUESTION, "--config", str(config), cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "Dolphinarium" in result.stdout
    return result.stdout


def ask(config: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`newsbot ask QUESTION` in LLM mode, stdout a pipe."""
    result = run_newsbot("ask", *args, QUESTION, "--config", str(config), cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def test_a_rejected_answer_is_replaced_not_followed(
    scripted: ScriptedLLM, config: Path, extractive_output: str, tmp_path: Path
) -> None:
    scripted.reply = says(INVENTED)
    result = ask(config, tmp_path)
    assert REJECTED not in result.stdout + result.stderr
    assert result.stdout == f"[extractive answer]\n{extractive_output}"
    assert result.stderr.startswith("newsbot: the model's answer was not supported by its sources")


def test_json_names_the_failed_check(scripted: ScriptedLLM, config: Path, tmp_path: Path) -> None:
    scripted.reply = says(INVENTED)
    answer = json.loads(ask(config, tmp_path, "--json").stdout)
    assert answer["mode"] == "extractive-fallback"
    assert answer["grounding"]["supported"] is False
    assert answer["grounding"]["failed"] == ["name"]
    assert "name check failed" in answer["notice"]
    assert REJECTED not in answer["text"]


def test_i_dont_know_is_the_abstention_alone(
    scripted: ScriptedLLM, config: Path, tmp_path: Path
) -> None:
    scripted.reply = says("I don't know.")
    result = ask(config, tmp_path)
    assert result.stdout == f"{ABSTENTION}\n"  # no extractive answer, no sources
    assert result.stderr == ""


def test_a_kept_answer_is_printed_once(scripted: ScriptedLLM, config: Path, tmp_path: Path) -> None:
    result = ask(config, tmp_path)
    lines = result.stdout.splitlines()
    assert lines[:3] == [FAITHFUL, "", "[1] Haaretz, 2004-09-06"]
    assert result.stdout.count("immigrants from Russia [1]") == 1
    assert result.stdout.count("[1] Haaretz, 2004-09-06") == 1
    assert lines.count("Sources") == 1
    assert lines[lines.index("Sources") + 1].startswith(f"[1] {TITLE} (Haaretz, 2004-09-06)")
    assert "[extractive answer]" not in result.stdout


def test_json_abstention_says_what_the_cli_says(
    scripted: ScriptedLLM, config: Path, tmp_path: Path
) -> None:
    scripted.reply = says("I don't know.")
    plain = ask(config, tmp_path)
    answer = json.loads(ask(config, tmp_path, "--json").stdout)
    assert answer["abstained"] is True
    assert answer["text"] == plain.stdout.rstrip("\n") == ABSTENTION
    assert answer["citations"] == []
    assert answer["closest"]["article_id"] == "haaretz-2004-09-06-lavrov"
    assert answer["closest"]["title"] == TITLE


def test_chat_remembers_a_streamed_turn(
    scripted: ScriptedLLM, config: Path, tmp_path: Path
) -> None:
    """The follow-up is condensed with the first answer: the streamed turn was recorded."""

    def reply(messages: list[dict[str, Any]]) -> str:
        if "Follow-up question:" in messages[-1]["content"]:
            return "What did Shalom say before meeting Lavrov?"
        return FAITHFUL

    scripted.reply = reply
    before = len(scripted.requests)
    stdin = f"{QUESTION}\nWhat did he say next?\n"
    result = run_newsbot("chat", "--config", str(config), cwd=tmp_path, stdin=stdin)
    assert result.returncode == 0, result.stderr
    prompts = [r["messages"][-1]["content"] for r in scripted.requests[before:]]
    condensing = [p for p in prompts if "Follow-up question:" in p]
    assert len(condensing) == 1 and FAITHFUL in condensing[0]
    assert result.stdout.count(FAITHFUL) == 2  # each answer printed once


# ------------------------------------------------------------------ on a terminal

ROWS, COLUMNS = 24, 100
_CONTROL = re.compile(r"(\x1b\[[0-9;?]*[A-Za-z]|\r|\n)")


def screen(output: str) -> list[str]:
    """The lines a terminal shows after `output`.

    Replays the controls rich's Live and click write: carriage return, line feed,
    cursor up and erase line; colours and cursor hiding don't move text and are skipped.
    """
    lines, row, col = [""], 0, 0
    for token in _CONTROL.split(output):
        if token == "\r":
            col = 0
        elif token == "\n":
            row += 1
            lines += [""] * (row + 1 - len(lines))
        elif token == "\x1b[2K":
            lines[row] = ""
        elif up := re.fullmatch(r"\x1b\[(\d*)A", token):
            row = max(row - int(up.group(1) or 1), 0)
        elif token and not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.rstrip() for line in lines]


def run_on_terminal(*args: str, cwd: Path, timeout: float = 300) -> tuple[str, str]:
    """Run the real console script with stdout on a pseudo-terminal: (terminal output,
    stderr)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    stderr = cwd / "stderr.txt"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [newsbot_script(), *args],
            cwd=cwd,
            env=clean_env(TERM="xterm-256color"),
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=err,
        )
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not data:
                break
            received += data
        assert process.wait(timeout=max(deadline - time.monotonic(), 1)) == 0, stderr.read_text()
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return received.decode("utf-8", "replace"), stderr.read_text("utf-8")


def test_on_a_terminal_only_checked_sentences_are_drawn(
    scripted: ScriptedLLM, config: Path, extractive_output: str, tmp_path: Path
) -> None:
    scripted.reply, scripted.delay_s = says(INVENTED), 0.1  # seconds of drafting
    output, stderr = run_on_terminal("ask", QUESTION, "--config", str(config), cwd=tmp_path)
    shown = screen(output)
    opening = "Shalom cited the 2001 Dolphinarium"  # on one line, drawn or printed
    # the checked first sentence was drawn as it streamed, then erased...
    assert output.count(opening) > "\n".join(shown).count(opening)
    assert REJECTED not in output  # ...the invented one was never drawn
    expected = f"[extractive answer]\n{extractive_output}"
    assert shown == [line.rstrip() for line in expected.splitlines()]
    assert stderr.startswith("newsbot: the model's answer was not supported by its sources")


def test_on_a_terminal_a_kept_answer_is_shown_once(
    scripted: ScriptedLLM, config: Path, tmp_path: Path
) -> None:
    scripted.delay_s = 0.05
    output, _ = run_on_terminal("ask", QUESTION, "--config", str(config), cwd=tmp_path)
    shown = screen(output)
    assert shown[:3] == [FAITHFUL, "", "[1] Haaretz, 2004-09-06"]
    assert sum(FAITHFUL in line for line in shown) == 1
    assert shown.count("Sources") == 1


def test_a_draft_taller_than_the_terminal_is_erased(capsys: pytest.CaptureFixture[str]) -> None:
    """A draft taller than the terminal shows its newest lines, and is erased all the same."""
    from rich.console import Console

    console = Console(force_terminal=True, width=40, height=6)  # writes to the captured stdout
    assert console.is_terminal
    draft = [f"Line {n} of an invented answer. " for n in range(1, 31)]
    final = Answer(text=NOT_FOUND, abstained=True)
    print_stream(iter([*draft, final]), console)
    output = capsys.readouterr().out
    assert "Line 30 of" in output  # the end was drawn, not the top with an ellipsis
    assert screen(output) == [final.text]
