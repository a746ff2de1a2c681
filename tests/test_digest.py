"""`newsbot digest`: the stories of a window, as users run it.

Indexes are built through `ingest_paths` (what `newsbot ingest` calls) with the real
packaged model; the digest is the real console script. Two outlets' reports of one
event must become one story; an article ingested before the window must stay out
(`--by ingested`), and so must one dated before it (by date, the default). The
newsdesk articles (tests/data/newsdesk) are scraped-looking: datelines, "Updated"
stamps, bylines, credits, a caption, an "AI-assisted summary" block and promos, none
of which may be a story's lead or a digest line.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest
from harness.newsbot import run_newsbot

from bot.config import load_settings
from index.furniture import recognise
from index.ingest.pipeline import ingest_paths

NEWSDESK = Path(__file__).parent / "data" / "newsdesk" / "articles.jsonl"

QUAKE_A = {
    "title": "Earthquake shakes Port Verrin, damaging the old lighthouse",
    "date": "2025-05-14",
    "source": "Verrin Gazette",
    "url": "https://gazette.example/quake",
    "text": (
        "A magnitude 5.8 earthquake shook the coastal town of Port Verrin early on "
        "Wednesday, cracking the old lighthouse and cutting power to 9,000 homes.\n\n"
        "The mayor said no one was badly hurt and that schools would stay closed on Thursday."
    ),
}
QUAKE_B = {
    "title": "Port Verrin quake cracks lighthouse and knocks out power",
    "date": "2025-05-14",
    "source": "Coastal Wire",
    "url": "https://wire.example/port-verrin-quake",
    "text": (
        "An earthquake of magnitude 5.8 struck Port Verrin on Wednesday morning, damaging "
        "the town's old lighthouse and leaving 9,000 homes without power.\n\n"
        "No serious injuries were reported, the mayor said, and schools stay shut on Thursday."
    ),
}
CHEESE = {
    "title": "Verrin cheese fair crowns a goat's cheese champion",
    "date": "2025-05-12",
    "source": "Verrin Gazette",
    "url": "https://gazette.example/cheese",
    "text": (
        "A soft goat's cheese from the Halden valley won the gold ribbon at the Verrin "
        "cheese fair on Monday, chosen from 140 entries by a jury of twelve.\n\n"
        "The winning dairy has four goats and sells only at the Saturday market."
    ),
}
OLD = {
    "title": "Harbour dredging finished ahead of schedule",
    "date": "2025-05-01",
    "source": "Verrin Gazette",
    "url": "https://gazette.example/dredging",
    "text": (
        "Dredging of Port Verrin's harbour mouth was finished two weeks early, so larger "
        "fishing boats can now enter at low tide, the port authority said on Thursday."
    ),
}


def write_jsonl(path: Path, *records: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def digest(tmp_path: Path, data_dir: Path, *args: str) -> dict:
    result = run_newsbot("digest", "--data-dir", str(data_dir), "--json", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_one_event_from_two_outlets_is_one_story_and_older_ingests_stay_out(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    settings = load_settings(data_dir=data_dir)
    ingest_paths(settings, [write_jsonl(tmp_path / "old.jsonl", OLD)])
    between = time.time()
    while time.time() <= between:  # the clock moves on before the second ingest
        time.sleep(0.01)
    ingest_paths(settings, [write_jsonl(tmp_path / "new.jsonl", CHEESE, QUAKE_A, QUAKE_B)])

    since = datetime.fromtimestamp(between).isoformat()
    found = digest(tmp_path, data_dir, "--since", since, "--by", "ingested")
    stories = found["stories"]
    assert [s["date"] for s in stories] == ["2025-05-14", "2025-05-12"]  # newest first
    quake = stories[0]
    assert sorted(quake["outlets"]) == ["Coastal Wire", "Verrin Gazette"]
    assert sorted(quake["links"]) == sorted([QUAKE_A["url"], QUAKE_B["url"]])
    assert quake["title"] in (QUAKE_A["title"], QUAKE_B["title"])
    assert any(quake["lead"] in a["text"] for a in (QUAKE_A, QUAKE_B))  # quoted exactly
    assert quake["lead"].startswith(("A magnitude 5.8", "An earthquake of magnitude"))
    assert stories[1]["outlets"] == ["Verrin Gazette"] and len(stories[1]["articles"]) == 1
    assert OLD["title"] not in json.dumps(found)
    assert datetime.fromisoformat(found["since"]).timestamp() == int(between)

    everything = digest(tmp_path, data_dir, "--since", "1d", "--by", "ingested")
    assert len(everything["stories"]) == 3


def test_the_text_digest_gives_title_date_outlets_lead_and_links(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ingest_paths(load_settings(data_dir=data_dir), [write_jsonl(tmp_path / "a.jsonl", QUAKE_A)])
    result = run_newsbot(
        "digest", "--data-dir", str(data_dir), "--since", "2025-05-13", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 story from 1 article dated 2025-05-13 to ")
    assert lines[2:] == [
        f"1. {QUAKE_A['title']} (2025-05-14)",
        "   Verrin Gazette",
        "   \u201c" + QUAKE_A["text"].split("\n")[0] + "\u201d",
        f"   {QUAKE_A['url']}",
    ]
    later = ("--since", "2099-01-01", "--as-of", "2099-01-02")
    nothing = run_newsbot("digest", "--data-dir", str(data_dir), *later, cwd=tmp_path)
    assert nothing.stdout.strip() == "No articles dated 2099-01-01 to 2099-01-02."
    none_in = run_newsbot(
        "digest", "--data-dir", str(data_dir), *later, "--by", "ingested", cwd=tmp_path
    )
    assert none_in.stdout.startswith("No new articles since 2099-01-01 00:00")


def test_bad_since_and_a_missing_index_are_one_line_errors(tmp_path: Path) -> None:
    bad = run_newsbot("digest", "--data-dir", str(tmp_path), "--since", "lately", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "newsbot: --since: can't read 'lately'; write a date (2026-12-01, yesterday, "
        "last week, 3 days ago) or a duration (24h, 2d)"
    ]
    missing = run_newsbot("digest", "--data-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr
    assert missing.stderr.strip().endswith("add articles first with: newsbot ingest PATH")


@pytest.fixture(scope="module")
def newsdesk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with an index of the scraped-looking newsdesk articles, by `newsbot ingest`."""
    path = tmp_path_factory.mktemp("newsdesk")
    result = run_newsbot("ingest", str(NEWSDESK), "--data-dir", "data", cwd=path)
    assert result.returncode == 0, result.stderr
    return path


def newsdesk_articles() -> dict[str, dict[str, str]]:
    rows = [json.loads(line) for line in NEWSDESK.read_text("utf-8").splitlines()]
    return {row["doc_id"]: row for row in rows}


def furniture_lines() -> set[str]:
    """Every line of the newsdesk articles that is not prose (the recogniser's view,
    checked line by line in test_furniture.py)."""
    return {
        a["text"][s.start : s.end]
        for a in newsdesk_articles().values()
        for s in recognise(a["text"], a["source"])
    }


def test_last_week_selects_by_article_date_and_leads_are_news_sentences(newsdesk: Path) -> None:
    found = digest(newsdesk, newsdesk / "data", "--since", "last week", "--as-of", "2026-01-10")
    assert found["by"] == "date"
    assert found["since"].startswith("2026-01-03T00:00")  # a week back from Jan 10
    yesterday = digest(newsdesk, newsdesk / "data", "--since", "yesterday", "--as-of", "2026-01-09")
    assert yesterday["since"].startswith("2026-01-08T00:00")
    assert [s["title"] for s in yesterday["stories"]] == [
        "Orm Island council backs second ferry pier at Kettle Bay"
    ]
    titles = [s["title"] for s in found["stories"]]
    # the Kettle Bay pier (Jan 8), then the ferry fire (Jan 6) from two outlets; not the
    # lighthouse (Dec 20) nor the undated bakery, though all came in at the same moment
    assert len(titles) == 2 and titles[0].startswith("Orm Island council"), titles
    fire = found["stories"][1]
    assert sorted(fire["outlets"]) == ["Associated Press", "Lakeshore Today"]
    articles = newsdesk_articles()
    texts = [a["text"] for a in articles.values()]
    furniture = furniture_lines()
    for story in found["stories"]:
        assert story["lead"] not in furniture
        assert any(story["lead"] in text for text in texts)  # quoted exactly
    assert found["stories"][0]["lead"].startswith("The Orm Island council voted 5 to 4")
    assert fire["lead"].startswith(("A fire broke out aboard", "Lifeboat crews took 212"))


def test_no_digest_line_is_a_dateline_byline_credit_or_promo(newsdesk: Path) -> None:
    result = run_newsbot(
        "digest",
        "--data-dir",
        "data",
        "--since",
        "2025-12-01",
        "--as-of",
        "2026-01-10",
        cwd=newsdesk,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip().strip("\u201c\u201d") for line in result.stdout.splitlines()]
    assert lines[0] == "3 stories from 4 articles dated 2025-12-01 to 2026-01-10:"
    assert "The Kettle Bay lighthouse was repainted" in result.stdout
    assert not set(lines) & furniture_lines(), set(lines) & furniture_lines()


def test_undated_articles_count_by_ingest_time_and_by_ingested_takes_all(newsdesk: Path) -> None:
    recent = digest(newsdesk, newsdesk / "data", "--since", "2 days ago")
    assert [s["title"] for s in recent["stories"]] == ["Bakery cooperative opens harbour shop"]
    everything = digest(newsdesk, newsdesk / "data", "--since", "1h", "--by", "ingested")
    assert sum(len(s["articles"]) for s in everything["stories"]) == 5


def test_a_long_digest_starts_with_the_most_reported_stories(tmp_path: Path) -> None:
    subjects = ["lantern", "copper mine", "glacier", "violin school", "tram line", "reef"]
    others = [
        {
            "title": f"Verrin {subject} news",
            "date": f"2025-04-{1 + 5 * n:02d}",  # days apart, so no two are one story
            "source": "Verrin Gazette",
            "url": f"https://gazette.example/{n}",
            "text": f"The Verrin {subject} was in the news on day {n}, the council said.",
        }
        for n, subject in enumerate(subjects)
    ]
    data_dir = tmp_path / "data"
    feed = write_jsonl(tmp_path / "a.jsonl", QUAKE_A, QUAKE_B, *others)
    ingest_paths(load_settings(data_dir=data_dir), [feed])
    result = run_newsbot(
        "digest",
        "--data-dir",
        str(data_dir),
        "--since",
        "2025-04-01",
        "--until",
        "2025-05-31",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "7 stories from 8 articles dated 2025-04-01 to 2025-05-31:"
    assert lines[2] == "Most reported:"
    assert lines[3] in (f"- {QUAKE_A['title']} (2 outlets)", f"- {QUAKE_B['title']} (2 outlets)")
    assert [line.endswith("(1 outlet)") for line in lines[4:8]] == [True] * 4
    assert lines[8] == "" and lines[9].startswith("1. ")
