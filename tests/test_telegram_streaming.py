"""LLM answers stream into one Telegram message, edited as the text arrives.

The model is the scripted OpenAI-compatible server (harness.llm_server), standing in for
a capable hosted model, which can't run here: it streams a well-cited answer word by
word over several seconds, so the bot must show it in several progress edits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.emulator_client import TelegramEmulator
from harness.llm_server import ScriptedLLM
from harness.newsbot import NewsbotProcess, buttons

from bot.telegram.streaming import EDIT_EVERY_S

pytest.importorskip("langchain_openai", reason="the llm extra is not installed")

USER = 2101
SHALOM = "What did Shalom cite?"
ANSWER = (
    "Shalom cited the 2001 Dolphinarium nightclub suicide bombing, in which many of the "
    "casualties were young immigrants from Russia [1]."
)
WORD_DELAY_S = 0.25  # about 20 words: some five seconds of streaming


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(lambda messages: ANSWER, delay_s=WORD_DELAY_S) as server:
        yield server


@pytest.fixture(scope="module")
def llm_newsbot(
    emulator: TelegramEmulator,
    llm: ScriptedLLM,
    sample_data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NewsbotProcess]:
    config = {
        "data_dir": str(sample_data_dir),
        "answer": {"mode": "llm"},
        "llm": {"provider": "openai", "base_url": llm.base_url, "model": "scripted"},
    }
    bot = NewsbotProcess(tmp_path_factory.mktemp("newsbot-llm"), emulator, config)
    try:
        yield bot.wait_ready(timeout=300)
    finally:
        bot.stop()


def edit_calls(emulator: TelegramEmulator) -> int:
    """editMessageText calls in the emulator's request log."""
    return sum(line.endswith("/editMessageText") for line in emulator.log().splitlines())


def test_llm_answer_streams_into_one_edited_message(
    emulator: TelegramEmulator, llm_newsbot: NewsbotProcess
) -> None:
    sent = emulator.send_message(SHALOM, user_id=USER)
    first_seen: float | None = None
    partial: set[str] = set()
    deadline = time.monotonic() + 120
    final: dict[str, Any] | None = None
    while final is None:
        assert time.monotonic() < deadline, f"no final answer:\n{llm_newsbot.output()[-4000:]}"
        replies = [m for m in emulator.bot_messages(USER) if m["message_id"] > sent["message_id"]]
        if replies and first_seen is None:
            first_seen = time.monotonic()
        partial.update(m["text"] for m in replies if not buttons(m))
        final = next((m for m in replies if buttons(m)), None)
        time.sleep(0.05)
    assert first_seen is not None
    elapsed = time.monotonic() - first_seen

    assert final["text"].startswith(f"{ANSWER}\n\n[1] Haaretz, 2004-09-06"), final["text"]
    assert buttons(final) == [("Sources", "src:1")]
    assert final["reply_to_message"]["message_id"] == sent["message_id"]
    assert "typing" in emulator.chat_actions(USER)
    answers = [m for m in emulator.bot_messages(USER) if m["message_id"] > sent["message_id"]]
    assert len(answers) == 1  # streamed into one message, not resent
    # the growing text was seen: several partial states, each a prefix of the answer
    assert len(partial) >= 2 and all(ANSWER.startswith(p.rstrip("…").strip()) for p in partial)
    edits = edit_calls(emulator)
    assert 2 <= edits <= 1 + elapsed / EDIT_EVERY_S + 1, (edits, elapsed)  # progress, then final
