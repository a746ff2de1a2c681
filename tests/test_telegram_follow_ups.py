"""Follow-ups that move on, in `newsbot telegram` against the emulator: "and who else?",
"when was that?" and a question that names its own subject before a pronoun. The bot
shares `newsbot chat`'s conversation logic; this checks it through the Telegram front
end, one real bot process for the module."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from harness.emulator_client import TelegramEmulator
from harness.newsbot import SAMPLE, NewsbotProcess, build_index, replies_to
from test_conversation import MITCHELL, MITCHELL_SENTENCE, crafted_stories


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    root = tmp_path_factory.mktemp("telegram-follow-ups")
    stories = root / "stories.jsonl"
    stories.write_text("".join(json.dumps(s) + "\n" for s in crafted_stories()), "utf-8")
    data_dir = build_index(root / "data", SAMPLE, stories)
    config = {"data_dir": str(data_dir), "telegram": {"questions_per_minute": 60}}
    bot = NewsbotProcess(root / "bot", emulator, config)
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def ask(emulator: TelegramEmulator, text: str, user_id: int) -> str:
    """Send a message and return the text of the bot's reply to it."""
    sent = emulator.send_message(text, user_id=user_id)
    reply = emulator.wait_for_bot_message(user_id, lambda m: replies_to(m, sent), timeout=60)
    return str(reply["text"])


def test_who_else_and_when_move_the_conversation_on(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    winner = ask(emulator, "Who won the Nordic Song Prize?", 2601)
    others = ask(emulator, "and who else?", 2601)
    more = ask(emulator, "any others?", 2601)
    when = ask(emulator, "when was that?", 2601)
    assert "Mara Lind won the Nordic Song Prize" in winner
    assert "Kettu Aalto" in others and "Mara Lind won" not in others
    assert "nothing more" in more and "Kettu Aalto" not in more
    assert "Saturday, February 4, 2023" in when


def test_a_question_naming_its_subject_is_retrieved_alone(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    assert MITCHELL_SENTENCE in ask(emulator, MITCHELL, 2602)
    age = ask(emulator, "How old was Walter Haines when he died?", 2602)
    funeral = ask(emulator, "Who spoke at his funeral?", 2602)
    assert "He was 87" in age and MITCHELL_SENTENCE not in age
    assert "Ruth Calloway" in funeral
