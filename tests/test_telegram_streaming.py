"""LLM answers stream into Telegram: one message, edited (throttled) as SmolLM2 writes.

The real `newsbot telegram` process in llm mode (llama.cpp with the packaged SmolLM2 GGUF)
against its own emulator, started verbose so that its log records every Bot API call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_client import TelegramEmulator, free_port
from test_telegram import SHALOM, NewsbotProcess, buttons

from bot.llm import packaged_smollm
from bot.telegram.streaming import EDIT_EVERY_S

pytestmark = pytest.mark.skipif(
    packaged_smollm() is None,
    reason="streaming needs the packaged SmolLM2 GGUF (pip install '.[llm]')",
)

USER = 2101


@pytest.fixture(scope="module")
def emulator() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(verbose=True).start(free_port()) as emu:
        yield emu


@pytest.fixture(scope="module")
def llm_newsbot(
    emulator: TelegramEmulator, sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    config = {"data_dir": str(sample_data_dir)}
    env = {
        "NEWSBOT_ANSWER__MODE": "llm",
        "NEWSBOT_LLM__PROVIDER": "llamacpp",
        "NEWSBOT_LLM__TEMPERATURE": "0",
        "NEWSBOT_LLM__MAX_TOKENS": "96",
    }
    bot = NewsbotProcess(tmp_path_factory.mktemp("newsbot-llm"), emulator, config, **env)
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
    deadline = time.monotonic() + 300
    final: dict[str, Any] | None = None
    while final is None:
        assert time.monotonic() < deadline, f"no final answer:\n{llm_newsbot.output()[-4000:]}"
        replies = [m for m in emulator.bot_messages(USER) if m["message_id"] > sent["message_id"]]
        if replies and first_seen is None:
            first_seen = time.monotonic()
        final = next((m for m in replies if buttons(m)), None)
        time.sleep(0.05)
    assert first_seen is not None
    elapsed = time.monotonic() - first_seen

    assert "Dolphinarium" in final["text"], final["text"]
    assert buttons(final) == [("Sources", "src:1")]
    assert final["reply_to_message"]["message_id"] == sent["message_id"]
    assert "typing" in emulator.chat_actions(USER)
    answers = [m for m in emulator.bot_messages(USER) if m["message_id"] > sent["message_id"]]
    assert len(answers) == 1  # streamed into one message, not resent

    edits = edit_calls(emulator)
    assert edits >= 1, "the streamed message was never edited into the final answer"
    assert edits <= 1 + elapsed / EDIT_EVERY_S + 1, (edits, elapsed)
    assert "edit_date" in final
