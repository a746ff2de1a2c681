"""`newsbot digest`: the stories of the articles ingested in a window, as users run it.

Indexes are built through `ingest_paths` (what `newsbot ingest` calls) with the real
packaged model; the digest is the real console script. Two outlets' reports of one
event must become one story; an article ingested before the window must stay out.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

from harness.newsbot import run_newsbot

from bot.config import load_settings
from index.ingest.pipeline import ingest_paths

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
    found = digest(tmp_path, data_dir, "--since", since)
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

    everything = digest(tmp_path, data_dir, "--since", "1d")
    assert len(everything["stories"]) == 3


def test_the_text_digest_gives_title_date_outlets_lead_and_links(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ingest_paths(load_settings(data_dir=data_dir), [write_jsonl(tmp_path / "a.jsonl", QUAKE_A)])
    result = run_newsbot("digest", "--data-dir", str(data_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 story from 1 article since ")
    assert lines[2:] == [
        f"1. {QUAKE_A['title']} (2025-05-14)",
        "   Verrin Gazette",
        "   \u201c" + QUAKE_A["text"].split("\n")[0] + "\u201d",
        f"   {QUAKE_A['url']}",
    ]
    nothing = run_newsbot(
        "digest", "--data-dir", str(data_dir), "--since", "2099-01-01", cwd=tmp_path
    )
    assert nothing.stdout.startswith("No new articles since 2099-01-01 00:00")


def test_bad_since_and_a_missing_index_are_one_line_errors(tmp_path: Path) -> None:
    bad = run_newsbot("digest", "--data-dir", str(tmp_path), "--since", "lately", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "newsbot: can't read --since 'lately'; write a duration such as 24h or 2d, "
        "or a date such as 2026-12-01 or 2026-12-01T08:00"
    ]
    missing = run_newsbot("digest", "--data-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr
    assert missing.stderr.strip().endswith("add articles first with: newsbot ingest PATH")
