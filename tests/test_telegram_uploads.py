"""Documents sent to `newsbot telegram` (issue #14): the real console script against the
emulator, which serves the files the bot downloads (getFile, then /file/bot...).

The index starts with the sample article, so the answering service is open when a
document arrives: answering it right after shows that the bot rereads the index. PDFs
are built in the test with reportlab, without metadata, so the date in the file's name
is the article's date.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.emulator_client import TelegramEmulator
from harness.newsbot import SAMPLE, NewsbotProcess, build_index, buttons, replies_to
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

ADMINS = {"pdf": 3101, "large": 3102, "corrupt": 3103, "type": 3104, "group": 3105}
STRANGER = 3199
MAX_DOCUMENT_MB = 5
ADMIN_ONLY = "Sorry, only the bot's administrators can manage news sources."
BRIDGE = (
    "The Quarry Lane bridge in Port Alma reopened on Tuesday after engineers replaced "
    "its cracked steel girders."
)
BRIDGE_LINES = [
    "Quarry Lane bridge reopens",
    "The Quarry Lane bridge in Port Alma reopened on Tuesday after engineers",
    "replaced its cracked steel girders. Buses returned to the route at noon.",
]
FERRY_LINES = [
    "Glimmerstone ferry strike ends",
    "The Glimmerstone ferry crews ended their strike on Sunday after the council",
    "agreed to pay them more for night sailings.",
]


def pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF with one drawn line per entry, and no metadata."""
    drawn = io.BytesIO()
    canvas = Canvas(drawn, pagesize=A4)
    for row, line in enumerate(lines):
        canvas.drawString(72, 780 - 16 * row, line)
    canvas.showPage()
    canvas.save()
    writer = PdfWriter()  # without reportlab's own metadata ("untitled", created now)
    for page in PdfReader(drawn).pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    """The bot over the sample article, with admins and a 5 MB cap on documents."""
    data_dir = build_index(tmp_path_factory.mktemp("uploads") / "data", SAMPLE)
    config = {
        "data_dir": str(data_dir),
        "telegram": {
            "admin_user_ids": sorted(ADMINS.values()),
            "questions_per_minute": 600,
            "max_document_mb": MAX_DOCUMENT_MB,
        },
    }
    bot = NewsbotProcess(tmp_path_factory.mktemp("newsbot-uploads"), emulator, config)
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def result_of(
    emulator: TelegramEmulator, sent: dict[str, Any], final: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The bot's reply to `sent` once it starts with `final`, and every bot message since."""
    chat_id = sent["chat"]["id"]
    reply = emulator.wait_for_bot_message(
        chat_id,
        lambda m: replies_to(m, sent) and m["text"].startswith(final),
        after_message_id=sent["message_id"],
        timeout=120,
    )
    since = [m for m in emulator.bot_messages(chat_id) if m["message_id"] > sent["message_id"]]
    return reply, since


def ask(emulator: TelegramEmulator, question: str, user_id: int) -> dict[str, Any]:
    """Send a question and return the bot's answer to it."""
    sent = emulator.send_message(question, user_id=user_id)
    return emulator.wait_for_bot_message(
        user_id, lambda m: replies_to(m, sent), after_message_id=sent["message_id"], timeout=60
    )


def articles(emulator: TelegramEmulator, user_id: int) -> int:
    """How many articles the bot's /stats says the index holds."""
    sent = emulator.send_command("/stats", user_id=user_id)
    stats = emulator.wait_for_bot_message(
        user_id, lambda m: "Articles:" in m["text"], after_message_id=sent["message_id"]
    )
    return int(stats["text"].split("Articles: ")[1].split("\n")[0])


def fetched(emulator: TelegramEmulator, message: dict[str, Any]) -> list[str]:
    """What the bot did with a document's file: "getFile", "download"."""
    file_id = message["document"]["file_id"]
    return [kind for kind, id_ in emulator.file_requests() if id_ == file_id]


def test_an_admins_pdf_is_ingested_reported_once_and_answerable(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    admin = ADMINS["pdf"]
    name = "inbox/2023-03-14 bridge report?.pdf"  # sanitised: no folder, no '?'; date kept
    sent = emulator.send_document(pdf_bytes(BRIDGE_LINES), name, user_id=admin)
    status, since = result_of(emulator, sent, "Ingested")
    assert status["text"] == "Ingested 2023-03-14 bridge report_.pdf: 1 new article, 1 chunk"
    assert since == [status]  # progress and result in one message
    assert fetched(emulator, sent) == ["getFile", "download"]

    answer = ask(emulator, "When did the Quarry Lane bridge reopen?", admin)
    assert BRIDGE in answer["text"]
    assert "[1] 2023-03-14" in answer["text"]  # dated by the file's name
    assert [t for t, _ in buttons(answer)] == ["Sources"]
    emulator.press_button(admin, answer["message_id"], buttons(answer)[0][1], user_id=admin)
    pager = emulator.wait_for_bot_message(admin, after_message_id=answer["message_id"])
    assert pager["text"].startswith("Source 1 of 1\n[1] Quarry Lane bridge reopens")
    assert BRIDGE in pager["text"]
    assert "Traceback" not in newsbot.output()


def test_a_document_from_anyone_else_is_refused_and_not_fetched(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    before = articles(emulator, STRANGER)
    sent = emulator.send_document(pdf_bytes(FERRY_LINES), "ferry.pdf", user_id=STRANGER)
    reply, since = result_of(emulator, sent, ADMIN_ONLY)
    assert since == [reply] and reply["text"] == ADMIN_ONLY
    assert fetched(emulator, sent) == []
    assert articles(emulator, STRANGER) == before


def test_a_document_over_the_cap_is_refused_before_downloading(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    admin = ADMINS["large"]
    claimed = 6_500_000  # under the Bot API's 20 MB: only the bot's own cap refuses it
    sent = emulator.send_document(
        pdf_bytes(FERRY_LINES), "ferry.pdf", user_id=admin, file_size=claimed
    )
    reply, since = result_of(emulator, sent, "Sorry")
    assert reply["text"] == (
        "Sorry, ferry.pdf is 6.5 MB, over the 5 MB limit for documents sent to me "
        "(telegram.max_document_mb)."
    )
    assert since == [reply]
    assert fetched(emulator, sent) == []


def test_a_corrupt_pdf_gets_one_line_naming_it_and_why(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    admin = ADMINS["corrupt"]
    whole = pdf_bytes(FERRY_LINES)
    sent = emulator.send_document(whole[: len(whole) // 2], "torn.pdf", user_id=admin)
    reply, since = result_of(emulator, sent, "Couldn't ingest")
    assert reply["text"].startswith("Couldn't ingest torn.pdf: not a readable PDF (")
    assert "\n" not in reply["text"] and "/tmp" not in reply["text"]
    assert since == [reply]
    assert fetched(emulator, sent) == ["getFile", "download"]


def test_an_unsupported_type_gets_one_polite_line(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    admin = ADMINS["type"]
    for name in ("setup.exe", "novel.epub"):
        sent = emulator.send_document(b"MZ\x90\x00binary", name, user_id=admin)
        reply, since = result_of(emulator, sent, "Sorry")
        kind = Path(name).suffix
        assert reply["text"] == (
            f"Sorry, I can't read {kind} files. Send one of: .docx, .htm, .html, .json, "
            ".jsonl, .markdown, .md, .ndjson, .pdf, .txt."
        )
        assert since == [reply] and fetched(emulator, sent) == []


def test_in_a_group_only_documents_meant_for_the_bot_are_taken(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    admin, group = ADMINS["group"], -1003100000001
    in_group: dict[str, Any] = {"user_id": admin, "chat_id": group, "chat_type": "supergroup"}
    ignored = emulator.send_document(pdf_bytes(FERRY_LINES), "minutes.pdf", **in_group)
    taken = emulator.send_document(
        pdf_bytes(FERRY_LINES), "ferry.pdf", caption="please read", mention=True, **in_group
    )
    status, since = result_of(emulator, taken, "Ingested")
    assert status["text"] == "Ingested ferry.pdf: 1 new article, 1 chunk"
    # one chat's updates are handled in order, so the first was seen and left alone
    assert since == [status] == emulator.bot_messages(group)
    assert fetched(emulator, ignored) == []

    again = emulator.send_document(
        pdf_bytes(FERRY_LINES), "ferry.pdf", reply_to_message_id=status["message_id"], **in_group
    )
    repeated, _ = result_of(emulator, again, "ferry.pdf")
    assert repeated["text"] == "ferry.pdf is already in the index: same text as article 'ferry'."


def test_a_document_about_a_watch_alerts_the_watching_chat(
    emulator: TelegramEmulator, newsbot: NewsbotProcess
) -> None:
    watcher = 3198  # not an admin: anyone allowed may watch
    sent = emulator.send_command("/watch Alma lighthouse restoration", user_id=watcher)
    emulator.wait_for_bot_message(
        watcher,
        lambda m: m["text"].startswith("Watch 1 saved"),
        after_message_id=sent["message_id"],
    )
    admin = ADMINS["type"]
    lines = [
        "Alma lighthouse restored",
        "The restoration of the Port Alma lighthouse was completed on Friday, and its lamp",
        "will shine again from Saturday night, the harbour trust said.",
    ]
    document = emulator.send_document(pdf_bytes(lines), "2023-03-19 lighthouse.pdf", user_id=admin)
    result_of(emulator, document, "Ingested")
    alert = emulator.wait_for_bot_message(
        watcher, lambda m: m["text"].startswith("\U0001f514"), timeout=60
    )
    assert alert["text"].splitlines()[:2] == [
        "\U0001f514 Watch 1: Alma lighthouse restoration",
        "Alma lighthouse restored",
    ]
    assert "The restoration of the Port Alma lighthouse was completed on Friday" in alert["text"]
    assert [m for m in emulator.bot_messages(admin) if m["text"].startswith("\U0001f514")] == []
