"""`newsbot telegram` starting and stopping: token errors, an empty index, access, signals."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.emulator_client import BOT_TOKEN, TelegramEmulator
from harness.newsbot import NewsbotProcess, run_newsbot

ALLOWED_USER = 3001
ALLOWED_GROUP = -1003000000001
EMPTY = "the index is empty"
REFUSAL = "you are not on its list of users"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (None, "TELEGRAM_BOT_TOKEN is not set"),
        ("", "TELEGRAM_BOT_TOKEN is not set"),
        ("not-a-token", "TELEGRAM_BOT_TOKEN is malformed"),
        ("7000000001:short", "TELEGRAM_BOT_TOKEN is malformed"),
        ("7000000001:AAE-newsbot emulator token", "TELEGRAM_BOT_TOKEN is malformed"),
    ],
)
def test_missing_or_malformed_token_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str | None, problem: str
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "data")}
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    result = run_newsbot("telegram", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"newsbot: {problem}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    if token:
        assert token not in result.stderr


def start_empty_bot(emulator: TelegramEmulator, workdir: Path) -> NewsbotProcess:
    """A bot over a data directory that has never been ingested into, with an allow-list."""
    config = {
        "data_dir": str(workdir / "no-index"),
        "telegram": {"allowed_user_ids": [ALLOWED_USER], "allowed_chat_ids": [ALLOWED_GROUP]},
    }
    return NewsbotProcess(workdir, emulator, config).wait_ready()


@pytest.fixture(scope="module")
def empty_bot(
    emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    bot = start_empty_bot(emulator, tmp_path_factory.mktemp("empty-bot"))
    try:
        yield bot
    finally:
        bot.stop()


def test_starts_without_an_index_and_says_so(
    emulator: TelegramEmulator, empty_bot: NewsbotProcess
) -> None:
    emulator.send_command("/start", user_id=ALLOWED_USER)
    hello = emulator.wait_for_bot_message(ALLOWED_USER)
    assert EMPTY in hello["text"]
    sent = emulator.send_message("What did Shalom cite?", user_id=ALLOWED_USER)
    reply = emulator.wait_for_bot_message(ALLOWED_USER, after_message_id=sent["message_id"])
    assert EMPTY in reply["text"] and reply["reply_to_message"]["message_id"] == sent["message_id"]


def test_a_user_not_on_the_list_gets_one_polite_refusal(
    emulator: TelegramEmulator, empty_bot: NewsbotProcess
) -> None:
    stranger = 3002
    emulator.send_message("What did Shalom cite?", user_id=stranger)
    emulator.send_command("/start", user_id=stranger)
    emulator.send_message("Who is Ephraim Michaeli?", user_id=stranger)
    emulator.wait_for(
        lambda: empty_bot.output().count(f"refused an update from user {stranger}") == 3,
        description="the bot to turn away all three updates",
    )
    refusals = emulator.bot_messages(stranger)
    assert len(refusals) == 1 and REFUSAL in refusals[0]["text"]
    assert emulator.chat_actions(stranger) == []


def test_listed_group_is_served_and_unlisted_group_refused_once(
    emulator: TelegramEmulator, empty_bot: NewsbotProcess
) -> None:
    listed = emulator.send_message(
        "What did Shalom cite?",
        user_id=3003,
        chat_id=ALLOWED_GROUP,
        chat_type="group",
        mention=True,
    )
    reply = emulator.wait_for_bot_message(ALLOWED_GROUP, after_message_id=listed["message_id"])
    assert EMPTY in reply["text"]
    unlisted: dict[str, Any] = {"chat_id": -1003000000002, "chat_type": "group", "mention": True}
    emulator.send_message("What did Shalom cite?", user_id=3003, **unlisted)
    emulator.send_message("Who is Ephraim Michaeli?", user_id=3003, **unlisted)
    # A listed user may ask anywhere; in the same chat, that comes after the two above.
    last = emulator.send_message("Who is Ephraim Michaeli?", user_id=ALLOWED_USER, **unlisted)
    emulator.wait_for_bot_message(
        -1003000000002,
        lambda m: (
            "reply_to_message" in m and m["reply_to_message"]["message_id"] == last["message_id"]
        ),
    )
    texts = [m["text"] for m in emulator.bot_messages(-1003000000002)]
    assert len(texts) == 2 and REFUSAL in texts[0] and EMPTY in texts[1]


def test_the_refusal_is_remembered_in_the_shared_chat_state(
    emulator: TelegramEmulator, empty_bot: NewsbotProcess
) -> None:
    # A listed user's turn saves the chat's state; a refusal that came between two such
    # turns must be part of it, or the next turn's load forgets it and a stranger is
    # refused again (and by every other replica).
    group: dict[str, Any] = {"chat_id": -1003000000003, "chat_type": "group", "mention": True}
    for user in (ALLOWED_USER, 3003, ALLOWED_USER, 3003):
        emulator.send_message("What did Shalom cite?", user_id=user, **group)
    last = emulator.send_message("Who is Ephraim Michaeli?", user_id=ALLOWED_USER, **group)
    emulator.wait_for_bot_message(
        group["chat_id"],
        lambda m: (
            "reply_to_message" in m and m["reply_to_message"]["message_id"] == last["message_id"]
        ),
    )
    texts = [m["text"] for m in emulator.bot_messages(group["chat_id"])]
    assert sum(REFUSAL in text for text in texts) == 1, texts


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly(
    emulator: TelegramEmulator, tmp_path: Path, sig: signal.Signals
) -> None:
    with emulator.another_bot(f"{7100000000 + sig}:AAE-newsbot-signal-test-token") as emulator:
        bot = start_empty_bot(emulator, tmp_path)
        emulator.send_command("/start", user_id=ALLOWED_USER)
        emulator.wait_for_bot_message(ALLOWED_USER)
        assert bot.stop(sig) == 0
    output = bot.output()
    assert "bot.telegram.app: stopped" in output and "Traceback" not in output
    assert emulator.token not in output and BOT_TOKEN not in output
