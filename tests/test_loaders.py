"""Loading every supported format, and a clear problem for every bad input."""

import json
from pathlib import Path

from index.articles import Article
from index.ingest.loaders import LoadNote, LoadProblem, find_files, load_file

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


def load(path: Path) -> list[Article | LoadProblem | LoadNote]:
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
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000)
    cases = {
        empty: "empty file",
        binary: "binary file, not text",
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
        "sub/skip.epub",
        "sub/.hidden/e.txt",
    ):
        (tmp_path / name).write_text("x")
    (tmp_path / "f.epub").write_text("x")
    files, problems = find_files([tmp_path, tmp_path / "missing.txt", tmp_path / "f.epub"])
    assert sorted(f.relative_to(tmp_path).as_posix() for f in files) == [
        "a.txt",
        "sub/b.md",
        "sub/c.html",
        "sub/d.jsonl",
    ]
    assert [str(p) for p in problems] == [
        f"{tmp_path}: 2 files of unsupported type .epub: f.epub, sub/skip.epub",
        f"{tmp_path / 'missing.txt'}: no such file or directory",
        f"{tmp_path / 'f.epub'}: unsupported file type (use .docx, .htm, .html, .json, "
        ".jsonl, .markdown, .md, .ndjson, .pdf, .txt)",
    ]


def test_a_folder_with_many_unsupported_files_is_one_line_per_type(tmp_path: Path) -> None:
    for i in range(8):
        (tmp_path / f"book-{i}.epub").write_bytes(b"PK")
    files, problems = find_files([tmp_path])
    assert files == []
    assert [p.reason for p in problems] == [
        "8 files of unsupported type .epub: book-0.epub, book-1.epub, book-2.epub, "
        "book-3.epub, book-4.epub and 3 more"
    ]


def test_text_in_another_encoding_is_decoded_and_noted(tmp_path: Path) -> None:
    cases = {
        "latin.txt": ("Caf\xe9 au lait. Another sentence.", "latin-1", "cp1252 (Western European)"),
        "quotes.md": (
            "\u201cZ\u00fcrich\u2019s mayor\u201d said \u2013 ok.",
            "cp1252",
            "cp1252 (Western European)",
        ),
        "ru.txt": (
            "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? "
            "\u0412\u0441\u0451 \u0445\u043e\u0440\u043e\u0448\u043e.",
            "cp1251",
            "cp1251 (Cyrillic)",
        ),
        "wide.txt": ("Harbour reopens. Boats return.", "utf-16", "utf_16"),
    }
    for name, (text, encoding, used) in cases.items():
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        note, article = load(path)
        assert isinstance(note, LoadNote) and isinstance(article, Article)
        assert str(note) == f"{path}: not UTF-8; read as {used}"
        assert article.text == text
    (tmp_path / "plain.txt").write_text("Caf\u00e9 in UTF-8. Fine.")
    (article,) = load(tmp_path / "plain.txt")
    assert isinstance(article, Article)


def test_records_with_a_url_but_no_source_get_its_publisher(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    rows = [
        {"text": "A.", "url": "https://www.usatoday.com/story/news/2023/01/02/x/1/"},
        {"text": "B.", "url": "https://www.theweek.co.uk/news/959999/x"},
        {"text": "C.", "url": "https://news.example.org/2023/a"},
        {"text": "D.", "url": "https://www.cnn.com/x", "source": "Given"},
        {"text": "E."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert [a.source for a in load(path)] == [  # type: ignore[union-attr]
        "USA Today",
        "The Week",
        "example.org",
        "Given",
        None,
    ]
    page = tmp_path / "page.html"
    page.write_text(
        PAGE.replace(
            "<head>",
            '<head><link rel="canonical" href="https://www.nytimes.com/2023/02/03/harbour.html">',
        )
    )
    (article,) = load(page)
    assert isinstance(article, Article) and article.source == "The New York Times"


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
