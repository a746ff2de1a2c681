"""Quoting as a Telegram user meets it: one number per article, its dates in the answer,
and a Sources page per article showing each quoted sentence, paged with prev/next."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.emulator_client import TelegramEmulator
from harness.newsbot import NewsbotProcess, build_index, buttons, replies_to

QUESTION = "What did the Brindlewick council decide about the tram?"
POST = [
    "The Brindlewick council decided to extend the tram line to the harbour.",
    "A spokesperson said the works would start in May.",
    "The Brindlewick council also decided that the tram fare stays at two euros.",
]
ARTICLES = [
    ("tram-post", "Brindlewick Post", "2023-03-01", " ".join(POST)),
    (
        "tram-herald",
        "Brindlewick Herald",
        "2023-03-02",
        "Residents welcomed the Brindlewick council decision on the tram, a survey found.",
    ),
    (
        "tram-valley",
        "Valley News",
        "2023-02-20",
        "Opposition members said the Brindlewick council decided on the tram too quickly.",
    ),
]


@pytest.fixture(scope="module")
def newsbot(
    emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsbotProcess]:
    root = tmp_path_factory.mktemp("quoting-telegram")
    feed = root / "tram.jsonl"
    rows = [
        {"doc_id": i, "title": f"Tram news from {s}", "date": d, "source": s, "text": t,
         "url": f"https://example.org/{i}"}
        for i, s, d, t in ARTICLES
    ]  # fmt: skip
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    config = {"data_dir": str(build_index(root / "data", feed)), "answer": {"max_sentences": 10}}
    bot = NewsbotProcess(tmp_path_factory.mktemp("newsbot"), emulator, config)
    try:
        yield bot.wait_ready()
    finally:
        bot.stop()


def test_each_article_is_one_dated_source_whose_page_shows_all_its_quotes(
    emulator: TelegramEmulator, newsbot: NewsbotProcess, tmp_path: Path
) -> None:
    sent = emulator.send_message(QUESTION, user_id=2101)
    reply = emulator.wait_for_bot_message(2101, lambda m: replies_to(m, sent), timeout=60)
    text = reply["text"]
    assert text.count(POST[0]) == 1 and POST[2] in text and POST[1] not in text
    numbers = sorted(set(re.findall(r"\[(\d)\]", text)))  # one number per article
    assert numbers == ["1", "2", "3"]
    for _, source, day, _ in ARTICLES:  # every cited article's outlet and date
        assert re.search(rf"\[\d\] {source}, {day}", text), text
    assert "The newest of these articles is" in text  # 2023 is long before today

    emulator.press_button(2101, reply["message_id"], buttons(reply)[0][1], user_id=2101)
    pager = emulator.wait_for_bot_message(2101, after_message_id=reply["message_id"])
    key = buttons(reply)[0][1].removeprefix("src:")  # the answer's key (random)
    assert pager["text"].startswith("Source 1 of 3")
    assert buttons(pager) == [("Next »", f"srcp:{key}:2")]
    pages = [pager["text"]]
    for n in (2, 3):
        emulator.press_button(2101, pager["message_id"], f"srcp:{key}:{n}", user_id=2101)
        page = emulator.wait_for_bot_message(
            2101, lambda m, n=n: m["text"].startswith(f"Source {n} of 3")
        )
        assert page["message_id"] == pager["message_id"]  # edited in place
        pages.append(page["text"])
        if n == 2:
            assert buttons(page) == [("« Prev", f"srcp:{key}:1"), ("Next »", f"srcp:{key}:3")]
    (post,) = [p for p in pages if "Brindlewick Post" in p]
    assert f"{POST[0]}\n{POST[2]}" in post  # both quotes (two blockquotes), in order
