"""Loading every supported format, and a clear problem for every bad input."""

import json
from pathlib import Path

from index.articles import Article
from index.ingest.loaders import LoadProblem, find_files, load_file

LIMIT = 1_000_000

PAGE = """<!doctype html><html><head><title>Harbour reopens after storm | Coast Daily</title>
<meta property="og:title" content="Harbour reopens after storm">
<meta name="author" content="Ana Ruiz">
<meta property="article:published_time" content="2023-02-03T08:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/sports">Sports</a> Subscribe now</nav>
<div class="ad">BUY CHEAP WATCHES TODAY</div>
<article><h1>Harbour reopens after storm</h1>
<p>The harbour of Port Alma reopened on Friday after a storm closed it for three days,
the port authority said. Fishing boats returned to the docks by the afternoon.</p>
<p>Officials said repairs to the northern breakwater would take another month and cost
about two million euros, paid from the regional emergency fund.</p>
<p>Local traders welcomed the news, saying the closure had cost them most of a week's
business during the busiest season of the year.</p></article>
<footer>Copyright Coast Daily. Cookie settings.</footer></body></html>"""


def load(path: Path) -> list[Article | LoadProblem]:
    return list(load_file(path, LIMIT))


def test_jsonl_in_the_articles_shape(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    rows = [
        {
            "doc_id": "a1",
            "url": "https://ex.org/1",
            "title": "One",
            "date": "2023/01/06",
            "text": "First article text. It has sentences.",
        },
        {
            "doc_id": "a2",
            "url": "https://ex.org/2",
            "title": "Two",
            "date": None,
            "text": "Second article.",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    first, second = load(path)
    assert isinstance(first, Article) and isinstance(second, Article)
    assert (first.id, first.title, first.date, first.url) == (
        "a1",
        "One",
        "2023-01-06",
        "https://ex.org/1",
    )
    assert second.date is None


def test_malformed_json_line_is_reported_with_its_number_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        '{"text": "Good one."}\n{"text": broken\n\n{"title": "no text"}\n{"text": "Good two."}\n'
    )
    items = load(path)
    problems = [str(i) for i in items if isinstance(i, LoadProblem)]
    articles = [i for i in items if isinstance(i, Article)]
    assert [a.text for a in articles] == ["Good one.", "Good two."]
    assert problems == [
        f"{path}:2: malformed JSON line (Expecting value)",
        f"{path}:4: missing or empty 'text' field",
    ]


def test_json_array_and_object(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text(json.dumps([{"text": "A."}, {"text": "B."}]))
    (tmp_path / "one.json").write_text(json.dumps({"text": "C.", "title": "Cee"}))
    assert [a.text for a in load(tmp_path / "list.json")] == ["A.", "B."]  # type: ignore[union-attr]
    (one,) = load(tmp_path / "one.json")
    assert isinstance(one, Article) and one.title == "Cee"


def test_html_is_extracted_without_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "harbour.html"
    path.write_text(PAGE)
    (article,) = load(path)
    assert isinstance(article, Article)
    assert article.title == "Harbour reopens after storm"
    assert article.date == "2023-02-03"
    assert "reopened on Friday" in article.text
    for junk in ("Subscribe now", "CHEAP WATCHES", "Cookie settings"):
        assert junk not in article.text


def test_bad_inputs_each_get_a_clear_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 au lait. Another sentence.".encode("latin-1"))
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000)
    cases = {
        empty: "empty file",
        binary: "binary file, not text",
        latin: "not valid UTF-8 (byte 3); convert the file to UTF-8",
        big: "file is 1.5 MB, over the 1 MB limit (raise ingest.max_file_mb to allow it)",
    }
    for path, reason in cases.items():
        assert [str(p) for p in load(path)] == [f"{path}: {reason}"]


def test_find_files_walks_directories_and_reports_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "sub" / ".hidden").mkdir(parents=True)
    for name in (
        "a.txt",
        "sub/b.md",
        "sub/c.html",
        "sub/d.jsonl",
        "sub/skip.pdf",
        "sub/.hidden/e.txt",
    ):
        (tmp_path / name).write_text("x")
    (tmp_path / "f.pdf").write_text("x")
    files, problems = find_files([tmp_path, tmp_path / "missing.txt", tmp_path / "f.pdf"])
    assert sorted(f.relative_to(tmp_path).as_posix() for f in files) == [
        "a.txt",
        "sub/b.md",
        "sub/c.html",
        "sub/d.jsonl",
    ]
    assert [p.reason.split(" (")[0] for p in problems] == [
        "no such file or directory",
        "unsupported file type",
    ]


def test_record_without_title_takes_its_url_slug_and_date(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    row = {
        "doc_id": "ev_1",
        "text": "The 24-year-old player has shown remarkable improvement.",
        "links": ["https://www.cnn.com/2023/01/04/football/damar-hamlin-collapse/index.html"],
    }
    path.write_text(json.dumps(row) + "\n")
    (article,) = load(path)
    assert isinstance(article, Article)
    assert article.title == "Damar hamlin collapse"
    assert article.url == row["links"][0]
    assert article.date == "2023-01-04"
