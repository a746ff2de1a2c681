"""The shared bot state (one SQLite file, several processes) and webhook settings."""

from pathlib import Path

import pytest
from harness.newsbot import run_newsbot

from bot.answer import Answer, Citation
from bot.config import ConfigError
from bot.conversation import Conversation
from bot.state import StateStore, default_url, open_database
from bot.telegram.shared import chat_state, restore_chat
from bot.telegram.state import ChatData
from bot.telegram.webhook import webhook


def _store(path: Path) -> StateStore:
    return StateStore(open_database(default_url(path)))


def test_question_limit_is_shared_by_two_connections(tmp_path: Path) -> None:
    one, two = _store(tmp_path / "s.sqlite"), _store(tmp_path / "s.sqlite")
    try:
        taken = [
            store.take_question(42, 3, now=1000.0 + i) for i, store in enumerate([one, two] * 2)
        ]
        assert taken == [True, True, True, False]
        assert one.take_question(43, 3, now=1004.0)  # another user has their own budget
        assert not two.take_question(42, 3, now=1059.0)  # the window is one minute
        assert two.take_question(42, 3, now=1060.5)  # the first question left the window
    finally:
        one.close()
        two.close()


def test_chat_state_round_trips_through_the_file(tmp_path: Path) -> None:
    citation = Citation(
        n=1, article_id="a", title="T", snippet="Shalom cited X.", score=0.5, start=0, end=15
    )
    chat = ChatData()
    answer = Answer(text="Shalom cited X. [1]", citations=[citation])
    conversation = chat.conversation = Conversation(3)
    conversation.add("Who is Shalom?", "Who is Shalom?", answer)
    key = chat.remember(answer)
    _store(tmp_path / "s.sqlite").save_chat(7, chat_state(chat))

    elsewhere = ChatData()  # as another replica would see it
    state = _store(tmp_path / "s.sqlite").load_chat(7)
    assert state is not None
    restore_chat(elsewhere, state, history_turns=3)
    assert elsewhere.last() == (key, answer)
    assert elsewhere.conversation is not None
    assert (
        elsewhere.conversation.standalone("What did he say?") == "Who is Shalom? What did he say?"
    )


def test_webhook_settings_are_checked() -> None:
    env = {"SECRET": "s3cret_-X"}
    hook = webhook("https://bot.example.org/tg/hook", "0.0.0.0:8443", "SECRET", env)
    assert (hook.host, hook.port, hook.url_path, hook.secret) == (
        "0.0.0.0",
        8443,
        "tg/hook",
        "s3cret_-X",
    )
    with pytest.raises(ConfigError, match="SECRET is not set"):
        webhook("https://bot.example.org/", "0.0.0.0:8443", "SECRET", {})
    with pytest.raises(ConfigError, match="letters, digits"):
        webhook("https://bot.example.org/", "0.0.0.0:8443", "SECRET", {"SECRET": "no spaces"})
    with pytest.raises(ConfigError, match="--listen must be HOST:PORT"):
        webhook("https://bot.example.org/", "8443", "SECRET", env)
    with pytest.raises(ConfigError, match="--webhook must be"):
        webhook("bot.example.org", "0.0.0.0:8443", "SECRET", env)


def test_missing_webhook_secret_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_newsbot(
        "telegram",
        "--webhook",
        "https://bot.example.org/telegram",
        cwd=tmp_path,
        env={"TELEGRAM_BOT_TOKEN": "7000000001:AAE-newsbot-emulator-token"},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "TELEGRAM_WEBHOOK_SECRET is not set" in result.stderr


def test_state_saved_before_per_member_conversations_still_loads() -> None:
    answer = Answer(text="Shalom cited X.")
    saved = answer.model_dump(mode="json")
    turn = {"question": "Who is Shalom?", "standalone": "Who is Shalom?", "answer": saved}
    old = {"turns": 1, "refused": False, "answers": {"1": saved}, "conversation": [turn]}
    chat = ChatData()
    restore_chat(chat, old, history_turns=3, chat_id=7)
    chat.asker = 7  # a private chat: the user's id is the chat's
    assert chat.last() == (1, answer) and chat.pagers == {}
    assert chat.conversation is not None
    assert chat.conversation.standalone("What did he say?") == "Who is Shalom? What did he say?"
