"""The furniture recogniser: which lines of a scraped article aren't prose, and their kinds.

Every line of the newsdesk articles (tests/data/newsdesk) is judged here by hand; the
recogniser must find exactly the furniture lines, with their kinds, and no prose line.
Ingest's record of them (chunk metadata) and the fallback for chunks stored without it
are checked through the real ingest.
"""

import json
from pathlib import Path

from index.articles import Article
from index.furniture import decode, encode, recognise, spans_in
from index.ingest.chunking import Chunk
from index.store.schema import chunk_metadata

NEWSDESK = Path(__file__).parent / "data" / "newsdesk" / "articles.jsonl"
EXPECTED = {
    "ferry-fire-today": [
        ("byline", "Mara Quint"),
        ("byline", "Lakeshore Today"),
        ("updated", "Jan. 6, 2026 Updated Jan. 7, 2026, 1:27 a.m. ET"),
        ("summary", "AI-assisted summary"),
        ("summary", "* A fire broke out on a Harrowgate ferry on Tuesday evening."),
        ("summary", "* All 212 passengers were taken off safely, officials said."),
        ("summary", "* The cause of the fire is under investigation."),
        (
            "caption",
            "Firefighters on the ferry Saint Brannock at Harrowgate pier on Tuesday. "
            "Tom Fell/Lakeshore Today",
        ),
        ("promo", "Ferry safety:Harrowgate ferries passed their inspection in November"),
        (
            "promo",
            "Sign up for our Daily Briefing newsletter to get the latest news in your inbox.",
        ),
        ("byline", "Contributing: Piet Ander, Lakeshore Today"),
    ],
    "ferry-fire-ap": [
        ("dateline", "HARROWGATE (AP) \u2014"),
        ("updated", "Updated 9:14 PM EST, Tue January 6, 2026"),
        ("credit", "Ola Brenn/AP"),
        ("promo", "Share this story"),
        ("byline", "\u2013 Associated Press"),
    ],
    "kettle-bay-pier": [
        ("byline", "By Ruth Amsel | Orm Island Courier"),
        ("dateline", "Published 7:02 a.m. ET Jan. 8, 2026"),
        (
            "promo",
            "Thank you for supporting our journalism. You can subscribe to our print edition here.",
        ),
        ("updated", "This story has been updated with additional reporting."),
    ],
    "lighthouse-paint": [
        ("dateline", "Dec. 20, 2025"),
        ("credit", "Photo by Sal Verne/Orm Island Courier"),
    ],
    "bakery-shop": [("promo", "Follow us on Facebook for daily updates from the island.")],
}


def articles() -> list[dict[str, str]]:
    return [json.loads(line) for line in NEWSDESK.read_text("utf-8").splitlines()]


def test_every_furniture_line_and_no_prose_line_is_found() -> None:
    for row in articles():
        text = row["text"]
        found = [(s.kind, text[s.start : s.end]) for s in recognise(text, row["source"])]
        assert found == EXPECTED[row["doc_id"]], row["doc_id"]


def test_news_sentences_that_look_like_furniture_stay_prose() -> None:
    prose = [
        "The mayor said the newsletter would no longer be printed, to save 40,000 crowns.",
        "By Tuesday, the river had fallen by two metres.",
        "Updated figures released on Jan. 5, 2026, showed 212 people had been evacuated.",
        "Jan. 6 was the coldest day of the winter so far, the weather office said.",
        "Share prices fell 4% after the announcement.",
        "It was all by design.",
        "The mayor said: Ferries will run again on Friday.",
        "At 6:30 p.m. the fire was out.",
    ]
    for line in prose:
        assert recognise(line) == [], line


def test_ingest_records_the_spans_and_old_chunks_are_recognised_when_read() -> None:
    row = articles()[0]
    article = Article(
        id=row["doc_id"], text=row["text"], title=row["title"], origin="x", source=row["source"]
    )
    chunk = Chunk(article.id, 0, 0, len(article.text), article.text, article.text)
    meta = chunk_metadata(article, chunk, 1, 0.0)
    recorded = decode(meta["furniture"])
    assert recorded == recognise(article.text, article.source)
    assert encode(recorded) == meta["furniture"]
    before_record = {k: v for k, v in meta.items() if k != "furniture"}
    assert spans_in(article.text, before_record) == recorded
    assert spans_in(article.text, meta | {"furniture": ""}) == []
