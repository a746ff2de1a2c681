"""LLM answers stream into one Telegram message, sentence by sentence as each passes the check.

The model is the scripted OpenAI-compatible server (harness.llm_server), standing in for
a capable hosted model, which can't run here: it streams a well-cited answer of three
sentences word by word over several seconds, so the bot must show it in several
progress edits, each ending on a checked sentence. Tests also script it to be
dishonest (a checked sentence, then an invented one) or to say "I don't know.": the
invented sentence must never appear in any version of the message (the emulator keeps
every text a message showed), and the message must end as the labelled extractive
answer or the abstention, one coherent message.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.emulator_client import TelegramEmulator
from harness.llm_server import ScriptedLLM
from harness.newsbot import NewsbotProcess, buttons

from bot.answer import NOT_FOUND
from bot.telegram.streaming import EDIT_EVERY_S, FALLBACK_LABEL

pytest.importorskip("langchain_openai", reason="the llm extra is not installed")

USER = 2101
SHALOM = "What did Shalom cite?"
SENTENCES = [  # all three from the chunk retrieved first, which the model sees as [1]
    "Shalom cited the 2001 Dolphinarium nightclub suicide bombing, in which many of the "
    "casualties were young immigrants from Russia [1].",
    "Before meeting Lavrov, Shalom said Israel could help because it had gone through the "
    "same things [1].",
    "On Sunday, Lavrov and Sharon independently called for an international "
    "anti-terrorist alliance [1].",
]
ANSWER = " ".join(SENTENCES)
WORD_DELAY_S = 0.1  # about 50 words: some five seconds of streaming
# Cites [1] but names a person the source never mentions: the grounding check rejects it.
YELTSIN = "Shalom said that Boris Yeltsin had planned the Dolphinarium bombing himself [1]."
INVENTED = f"{SENTENCES[0]} {YELTSIN} {SENTENCES[1]}"
IDK = "I don't know."
ABSTENTION = (
    f"{NOT_FOUND} The closest article, which does not answer it: \u201cRussian FM welcomes "
    "Israeli cooperation on terror\u201d (Haaretz, 2004-09-06)."
)


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(lambda messages: ANSWER, delay_s=WORD_DELAY_S) as server:
        yield server


@pytest.fixture
def model(llm: ScriptedLLM) -> Iterator[ScriptedLLM]:
    """The module's model; a test scripts what it says for itself."""
    yield llm
    llm.reply = lambda messages: ANSWER


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


def api_calls(emulator: TelegramEmulator, method: str = "editMessageText") -> int:
    """The bot's calls of a Bot API method in the emulator's request log."""
    return sum(
        line.endswith(f"/bot{emulator.token}/{method}") for line in emulator.log().splitlines()
    )


def test_llm_answer_streams_into_one_edited_message(
    emulator: TelegramEmulator, llm_newsbot: NewsbotProcess
) -> None:
    sent = emulator.send_message(SHALOM, user_id=USER)
    first_seen: float | None = None
    deadline = time.monotonic() + 120
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

    assert final["text"].startswith(f"{ANSWER}\n\n[1] Haaretz, 2004-09-06"), final["text"]
    assert [t for t, _ in buttons(final)] == ["Sources"]
    assert final["reply_to_message"]["message_id"] == sent["message_id"]
    assert "typing" in emulator.chat_actions(USER)
    answers = [m for m in emulator.bot_messages(USER) if m["message_id"] > sent["message_id"]]
    assert len(answers) == 1  # streamed into one message, not resent
    # every version of the message before the final one was whole checked sentences
    drafts = emulator.shown_texts(USER)[:-1]
    whole = {" ".join(SENTENCES[:n]) for n in range(1, len(SENTENCES))}
    assert drafts and set(drafts) <= whole, drafts
    edits = api_calls(emulator)
    assert 1 <= edits <= 1 + elapsed / EDIT_EVERY_S + 1, (edits, elapsed)  # progress, then final


def replies(emulator: TelegramEmulator, user: int, sent: dict[str, Any]) -> list[dict[str, Any]]:
    """The bot's messages after `sent`, with edits applied."""
    return [m for m in emulator.bot_messages(user) if m["message_id"] > sent["message_id"]]


def calls(emulator: TelegramEmulator) -> tuple[int, int]:
    """(sendMessage, editMessageText) calls so far."""
    return api_calls(emulator, "sendMessage"), api_calls(emulator, "editMessageText")


def test_i_dont_know_is_one_abstention(
    emulator: TelegramEmulator, llm_newsbot: NewsbotProcess, model: ScriptedLLM
) -> None:
    user = 2102
    model.reply = lambda messages: IDK
    before = calls(emulator)
    sent = emulator.send_message(SHALOM, user_id=user)
    emulator.wait_for(
        lambda: [m for m in replies(emulator, user, sent) if m["text"] == ABSTENTION],
        120,
        description="the abstention",
    )
    (final,) = replies(emulator, user, sent)
    sends, edits = (now - then for now, then in zip(calls(emulator), before, strict=True))
    assert (sends, edits) == (1, 0)  # a refusal is held, not drafted: the answer, once
    assert final["text"] == ABSTENTION  # said as the CLI and --json say it
    assert FALLBACK_LABEL not in final["text"] and "Dolphinarium" not in final["text"]
    assert buttons(final) == []  # nothing cited, no Sources
    assert final["reply_to_message"]["message_id"] == sent["message_id"]


def test_an_invented_answer_streams_into_the_extractive_one(
    emulator: TelegramEmulator, llm_newsbot: NewsbotProcess, model: ScriptedLLM
) -> None:
    user = 2103
    model.reply = lambda messages: INVENTED
    before = calls(emulator)
    sent = emulator.send_message(SHALOM, user_id=user)
    drafts: set[str] = set()
    deadline = time.monotonic() + 120
    final: dict[str, Any] | None = None
    while final is None:
        assert time.monotonic() < deadline, f"no final answer:\n{llm_newsbot.output()[-4000:]}"
        shown = replies(emulator, user, sent)
        drafts.update(m["text"] for m in shown if not buttons(m))
        final = next((m for m in shown if buttons(m)), None)
        time.sleep(0.05)
    assert all("Yeltsin" not in text for text in emulator.shown_texts(user))  # in no edit
    assert drafts <= {SENTENCES[0]}, drafts  # the checked sentence before it, at most
    assert [m["message_id"] for m in replies(emulator, user, sent)] == [final["message_id"]]
    sends, _ = (now - then for now, then in zip(calls(emulator), before, strict=True))
    assert sends == 1  # the draft became the answer: no second message
    label = f"{FALLBACK_LABEL} (the model's answer was not supported by its sources"
    assert final["text"].startswith(label), final["text"]
    assert "name check failed" in final["text"]
    assert "Shalom cited the 2001 Dolphinarium nightclub suicide bombing" in final["text"]
    assert "Yeltsin" not in final["text"]
    assert [t for t, _ in buttons(final)] == ["Sources"]


def test_a_deleted_draft_is_answered_in_a_new_message(
    emulator: TelegramEmulator, llm_newsbot: NewsbotProcess, model: ScriptedLLM
) -> None:
    """The user deletes the message while it streams: the answer can't be edited in, so
    it is sent."""
    user = 2104
    sent = emulator.send_message(SHALOM, user_id=user)
    draft = emulator.wait_for(
        lambda: next(iter(replies(emulator, user, sent)), None), 60, description="the draft"
    )
    deleted = httpx.post(
        f"{emulator.api_base}/bot{emulator.token}/deleteMessage",
        json={"chat_id": user, "message_id": draft["message_id"]},
    ).json()
    assert deleted == {"ok": True, "result": True}
    final = emulator.wait_for(
        lambda: next((m for m in replies(emulator, user, sent) if buttons(m)), None),
        120,
        description="the final answer",
    )
    assert [m["message_id"] for m in replies(emulator, user, sent)] == [final["message_id"]]
    assert final["message_id"] != draft["message_id"]
    assert final["text"].startswith(f"{ANSWER}\n\n[1] Haaretz, 2004-09-06"), final["text"]
    assert final["reply_to_message"]["message_id"] == sent["message_id"]
