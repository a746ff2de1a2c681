"""What `newsbot ingest` tells a user about their files (issue #12): files it can't
read, the encoding it guessed, the publisher of a URL, duplicates, and progress."""

import json
import os
import pty
import re
import subprocess
from pathlib import Path

from harness.newsbot import clean_env, newsbot_script, run_newsbot

from bot.config import Settings
from index.ingest.pipeline import ingest_paths
from index.store.chunks import ChunkStore

STORY = (
    "Harbour story\n\nThe harbour of Port Alma reopened on Friday after a storm. "
    "Fishing boats returned to the docks by the afternoon."
)
PRIVACY = (
    "Privacy policy\n\nWe use cookies to improve your experience. "
    "By continuing to browse you agree to our use of cookies."
)


def test_unsupported_files_in_a_folder_are_named_and_counted(tmp_path: Path) -> None:
    news = tmp_path / "news"
    (news / "sub").mkdir(parents=True)
    (news / "story.txt").write_text(STORY)
    (news / "report.epub").write_bytes(b"PK\x03\x04\x00\x01binary")
    (news / "sub" / "annex.epub").write_bytes(b"PK\x03\x04\x00\x02binary")
    (news / "memo.odt").write_bytes(b"PK\x03\x04\x00\x00binary")
    (news / "blob").write_bytes(b"\x00\x01\x02\x03")
    result = run_newsbot("ingest", "news", "--data-dir", "data", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "skipped news: 1 file of unsupported type (no extension): blob",
        "skipped news: 2 files of unsupported type .epub: report.epub, sub/annex.epub",
        "skipped news: 1 file of unsupported type .odt: memo.odt",
    ]
    assert result.stdout.startswith("1 new, 0 updated, 0 unchanged")
    assert result.stdout.strip().endswith("; 3 problems")


def test_a_latin_1_text_file_is_read_and_its_encoding_named(tmp_path: Path) -> None:
    text = (
        "Le café de la gare\n\nLe café de la gare était fermé à Noël, a déclaré le maire. "
        "Les habitués ont dû aller ailleurs pendant une semaine entière."
    )
    (tmp_path / "cafe.txt").write_bytes(text.encode("latin-1"))
    result = run_newsbot("ingest", "cafe.txt", "--data-dir", "data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "note cafe.txt: not UTF-8; read as cp1252 (Western European)"
    assert result.stdout.startswith("1 new, 0 updated, 0 unchanged")
    (chunk,) = ChunkStore(tmp_path / "data").collection.get()["documents"]
    assert chunk.startswith("Le café de la gare était fermé à Noël")


def test_json_lines_with_a_url_get_the_publisher_from_it(tmp_path: Path) -> None:
    rows = [
        ("u1", "https://www.usatoday.com/story/news/2023/01/02/storm-closes-harbour/1/"),
        ("c1", "https://edition.cnn.com/2023/01/02/world/harbour-storm/index.html"),
        ("w1", "https://www.theweek.co.uk/news/959999/harbour-storm"),
        ("e1", "https://www.example-gazette.org/2023/01/02/harbour"),
    ]
    lines = [
        json.dumps({"doc_id": i, "url": u, "date": "2023-01-02", "text": f"{i}: {STORY}"})
        for i, u in rows
    ]
    lines.append(json.dumps({"doc_id": "s1", "url": rows[0][1], "source": "Own", "text": "Ok."}))
    (tmp_path / "news.jsonl").write_text("\n".join(lines) + "\n")
    result = run_newsbot("ingest", "news.jsonl", "--data-dir", "data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stored = ChunkStore(tmp_path / "data").articles()
    assert {i: a.source for i, a in stored.items()} == {
        "u1": "USA Today",
        "c1": "CNN",
        "w1": "The Week",
        "e1": "example-gazette.org",
        "s1": "Own",
    }
    answer = run_newsbot(
        "ask", "When did the harbour of Port Alma reopen?", "--data-dir", "data", cwd=tmp_path
    )
    assert re.search(
        r"\((USA Today|CNN|The Week|example-gazette\.org), 2023-01-02\)", answer.stdout
    )


def test_exact_duplicate_texts_are_warned_about_and_skipped(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "story.txt").write_text(STORY)
    for i in range(6):
        (pages / f"privacy-{i}.txt").write_text(PRIVACY if i % 2 else PRIVACY + "\n\n")
    result = run_newsbot("ingest", "pages", "--data-dir", "data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.strip().splitlines()
    assert warnings == [
        f"skipped {(pages / f'privacy-{i}.txt').resolve()}: same text as article 'privacy-0'"
        for i in range(1, 6)
    ]
    assert result.stdout.startswith("2 new, 0 updated, 0 unchanged")
    assert result.stdout.strip().endswith("; 5 duplicates skipped")
    assert sorted(ChunkStore(tmp_path / "data").articles()) == ["privacy-0", "story"]

    (tmp_path / "later.txt").write_text(PRIVACY)
    again = run_newsbot("ingest", "later.txt", "pages", "--data-dir", "data", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (
        f"skipped {(tmp_path / 'later.txt').resolve()}: same text as article 'privacy-0'"
        in again.stderr
    )
    assert again.stdout.startswith("0 new, 0 updated, 2 unchanged")


class Recorder:
    """Records the progress callbacks an ingest makes, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def files_found(self, count: int) -> None:
        self.events.append(("files", count))

    def file_done(self, path: Path) -> None:
        self.events.append(("file done", 1))

    def articles_found(self, count: int) -> None:
        self.events.append(("articles", count))

    def article_done(self) -> None:
        self.events.append(("article", 1))

    def chunks_stored(self, count: int) -> None:
        self.events.append(("stored", count))

    def chunks_planned(self, count: int) -> None:
        self.events.append(("planned", count))

    def chunks_embedded(self, count: int) -> None:
        self.events.append(("embedded", count))


def test_progress_is_reported_within_one_huge_single_line_file(
    settings: Settings, tmp_path: Path
) -> None:
    sentence = "The council of Port Alma voted on the harbour budget for the {n} time today. "
    line = "".join(sentence.format(n=n) for n in range(2200))  # one line, ~170 chunks
    (tmp_path / "oneline.txt").write_text(line)
    recorder = Recorder()
    report = ingest_paths(settings, [tmp_path / "oneline.txt"], recorder)
    assert report.new == 1 and report.chunks > 128
    kinds = [kind for kind, _ in recorder.events]
    planned = [n for kind, n in recorder.events if kind == "planned"]
    embedded = [n for kind, n in recorder.events if kind == "embedded"]
    assert planned == [report.chunks]
    assert kinds.index("planned") < kinds.index("embedded") < kinds.index("stored")
    assert len(embedded) >= 3 and max(embedded) <= 64
    assert sum(embedded) == report.chunks


def harbour_records(count: int) -> str:
    """A JSON Lines file's text: `count` short real-looking harbour stories, one a line."""
    return "".join(
        json.dumps(
            {
                "doc_id": f"harbour-{n}",
                "title": f"Harbour report {n}",
                "date": "2023-01-02",
                "text": f"PORT ALMA \u2014 Boat {n} returned to the harbour on Friday after "
                f"the storm, its crew of {n + 3} said. The harbour master counted the damage.",
            }
        )
        + "\n"
        for n in range(count)
    )


def test_progress_counts_the_records_of_a_json_lines_file_as_articles(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "news.jsonl").write_text(harbour_records(40))
    recorder = Recorder()
    ingest_paths(settings, [tmp_path / "news.jsonl"], recorder)
    kinds = [kind for kind, _ in recorder.events]
    assert recorder.events[:2] == [("files", 1), ("articles", 40)]
    assert kinds.count("article") == 40 and kinds.index("articles") < kinds.index("planned")
    again = Recorder()  # unchanged articles are done too: the count reaches its total
    report = ingest_paths(settings, [tmp_path / "news.jsonl"], again)
    assert report.unchanged == 40
    assert [k for k, _ in again.events].count("article") == 40


def test_newsbot_ingest_on_a_terminal_shows_articles_not_files(tmp_path: Path) -> None:
    """`newsbot ingest` on a pseudo-terminal, as a user's shell runs it: the bar counts the
    file's 40 records, and the one file is only a detail beside them."""
    (tmp_path / "news.jsonl").write_text(harbour_records(40))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [newsbot_script(), "ingest", "news.jsonl", "--data-dir", "data"],
        cwd=tmp_path,
        env=clean_env(COLUMNS="160", TERM="xterm"),
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not data:
            break
        shown += data
    assert process.wait(timeout=300) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace"))  # colours
    assert re.search(r"\b\d+/40 articles", screen), screen[-2000:]
    assert "/1 files" in screen and not re.search(r"\b\d+/1 articles", screen)
    assert "40 new, 0 updated, 0 unchanged" in screen
