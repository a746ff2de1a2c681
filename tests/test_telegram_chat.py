"""Talking to `newsbot telegram` as a user does: new topics, empty messages, pronouns,
group conversations, follow-ups that move on ("and who else?", "when was that?"),
unknown commands and the Sources card. One real bot process against the emulator serves
the module; each test has its own users and chats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from harness.emulator_client import BOT_USERNAME, TelegramEmulator
from harness.newsbot import SAMPLE, NewsbotProcess, build_index, buttons, replies_to
from test_conversation import (
    ASK_SOMETHING,
    GLOBES,
    GLOBES_SENTENCE,
    HAMLIN_SENTENCE,
    MITCHELL,
    MITCHELL_SENTENCE,
    TWITTER,
    TWITTER_SENTENCE,
    WHO,
    crafted_stories,
)

MICHAELI = "Who is Ephraim Michaeli?"
ARMY_RADIO = "What did he tell Army Radio?"


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    root = tmp_path_factory.mktemp("telegram-chat")
    stories = root / "stories.jsonl"
    stories.write_text("".join(json.dumps(s) + "\n" for s in crafted_stories()), "utf-8")
    data_dir = build_index(root / "data", SAMPLE, stories)
    config = {"data_dir": str(data_dir), "telegram": {"questions_per_minute": 60}}
    bot = NewsbotProcess(root / "bot", emulator, config)
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def ask(emulator: TelegramEmulator, text: str, user_id: int, **kwargs: Any) -> dict[str, Any]:
    """Send a message and return the bot's reply to it."""
    sent = emulator.send_message(text, user_id=user_id, **kwargs)
    return emulator.wait_for_bot_message(
        kwargs.get("chat_id") or user_id, lambda m: replies_to(m, sent), timeout=60
    )


def command(emulator: TelegramEmulator, text: str, user_id: int, **kwargs: Any) -> dict[str, Any]:
    """Send a command and return the bot's next message in that chat."""
    sent = emulator.send_command(text, user_id=user_id, **kwargs)
    chat_id = kwargs.get("chat_id") or user_id
    return emulator.wait_for_bot_message(chat_id, after_message_id=sent["message_id"])


def test_a_message_with_nothing_to_ask_about_gets_a_prompt_not_the_last_answer(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    first = ask(emulator, GLOBES, 2101)
    assert GLOBES_SENTENCE in first["text"] and [t for t, _ in buttons(first)] == ["Sources"]
    for text in ("👍", "🎉🎉🎉", "x" * 4096, "What are the latest news?"):
        reply = ask(emulator, text, 2101)
        assert GLOBES_SENTENCE not in reply["text"] and not buttons(reply), text
        expected = "Which topic" if "news" in text else ASK_SOMETHING
        assert expected in reply["text"], text
    twitter = ask(emulator, TWITTER, 2101)
    assert TWITTER_SENTENCE in twitter["text"] and GLOBES_SENTENCE not in twitter["text"]


def test_a_pronoun_after_reset_asks_who_is_meant(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    ask(emulator, MITCHELL, 2201)
    assert "forgotten" in command(emulator, "/reset", 2201)["text"]
    reply = ask(emulator, "What did his doctors say?", 2201)
    assert f"{WHO} “his”?" in reply["text"] and HAMLIN_SENTENCE not in reply["text"]
    assert not buttons(reply)


def test_group_members_have_their_own_conversations(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    group: dict[str, Any] = {"chat_id": -1002300000001, "chat_type": "supergroup"}
    alice, bob = 2301, 2302
    assert "Ephraim Michaeli" in ask(emulator, MICHAELI, alice, mention=True, **group)["text"]
    # Bob never asked about Michaeli: his question is retrieved on its own
    bobs = ask(emulator, ARMY_RADIO, bob, mention=True, **group)
    assert "Russians admire Israel" in bobs["text"] and "Michaeli" not in bobs["text"]
    reset = command(emulator, f"/reset@{BOT_USERNAME}", bob, **group)
    assert "yours only" in reset["text"]
    alices = ask(emulator, ARMY_RADIO, alice, mention=True, **group)  # Alice's turn survived
    assert "Russians admire Israel" in alices["text"] and "Ephraim Michaeli" in alices["text"]


def test_an_unknown_command_gets_a_hint(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    hint = "Unknown command /foo; /help lists what I can do."
    assert command(emulator, "/foo", 2401)["text"] == hint
    group: dict[str, Any] = {"chat_id": -1002400000001, "chat_type": "group"}
    emulator.send_command("/foo", user_id=2402, **group)  # perhaps another bot's: silence
    assert command(emulator, f"/foo@{BOT_USERNAME}", 2402, **group)["text"] == hint
    start = command(emulator, f"/start@{BOT_USERNAME}", 2402, **group)
    assert f"mention me (@{BOT_USERNAME})" in start["text"]
    assert "Just send me a question" not in start["text"]
    assert len(emulator.bot_messages(group["chat_id"])) == 2


def test_pressing_sources_again_reuses_the_open_card(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    answer = ask(emulator, "What did Shalom cite?", 2501)
    emulator.press_button(2501, answer["message_id"], buttons(answer)[0][1], user_id=2501)
    card = emulator.wait_for_bot_message(2501, after_message_id=answer["message_id"])
    assert card["text"].startswith("Source 1 of")
    emulator.press_button(2501, answer["message_id"], buttons(answer)[0][1], user_id=2501)
    # the next reply shows whether a second card came before it
    assert "Dolphinarium" in ask(emulator, "What did Shalom cite?", 2501)["text"]
    cards = [m for m in emulator.bot_messages(2501) if m["text"].startswith("Source ")]
    assert [c["message_id"] for c in cards] == [card["message_id"]]


def test_who_else_and_when_move_the_conversation_on(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    winner = ask(emulator, "Who won the Nordic Song Prize?", 2601)["text"]
    others = ask(emulator, "and who else?", 2601)["text"]
    more = ask(emulator, "any others?", 2601)["text"]
    when = ask(emulator, "when was that?", 2601)["text"]
    assert "Mara Lind won the Nordic Song Prize" in winner
    assert "Kettu Aalto" in others and "Mara Lind won" not in others
    assert "nothing more" in more and "Kettu Aalto" not in more
    assert "Saturday, February 4, 2023" in when


def test_a_question_naming_its_subject_is_retrieved_alone(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    assert MITCHELL_SENTENCE in ask(emulator, MITCHELL, 2602)["text"]
    age = ask(emulator, "How old was Walter Haines when he died?", 2602)["text"]
    funeral = ask(emulator, "Who spoke at his funeral?", 2602)["text"]
    assert "He was 87" in age and MITCHELL_SENTENCE not in age
    assert "Ruth Calloway" in funeral
