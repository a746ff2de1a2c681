"""Header parsing of plain-text articles, starting with the seed format."""

from harness.newsbot import SAMPLE

from index.ingest.metadata import date_from_filename, parse_header
from index.ingest.publishers import publisher_from_url, registrable_domain


def test_seed_header_gives_title_date_and_byline() -> None:
    text = SAMPLE.read_text()
    header = parse_header(text)
    assert header.title == "Russian FM welcomes Israeli cooperation on terror"
    assert header.date == "2004-09-06T13:45"
    assert header.author == "Haaretz Service"
    assert header.source == "Haaretz"
    assert text[header.body_start :].startswith("Russian Foreign Minister Sergei Lavrov")


def test_missing_lines_fall_back() -> None:
    only_title = parse_header("A headline without a date\n\nBody text starts here. More.")
    assert only_title.title == "A headline without a date"
    assert only_title.date is None and only_title.author is None

    no_header = "This article starts straight away with a sentence. It goes on."
    header = parse_header(no_header)
    assert header.body_start == 0 and header.title is None


def test_markdown_heading_and_front_matter() -> None:
    md = "---\ntitle: Front matter title\ndate: 2023-02-01\nurl: https://example.org/a\n---\n"
    md += "# Ignored heading\n\nBody sentence here."
    header = parse_header(md)
    assert header.title == "Front matter title"
    assert header.date == "2023-02-01"
    assert header.url == "https://example.org/a"
    assert md[header.body_start :] == "Body sentence here."


def test_person_byline_is_author_not_publisher() -> None:
    header = parse_header("Title here\nBy Jane Doe\n\nBody. More body.")
    assert header.author == "Jane Doe" and header.source is None


def test_date_from_filename() -> None:
    assert date_from_filename("haaretz-2004-09-06-lavrov.txt") == "2004-09-06"
    assert date_from_filename("notes.txt") is None
    assert date_from_filename("x-2004-13-45.txt") is None


def test_title_and_date_from_a_news_url() -> None:
    from index.ingest.metadata import date_from_url, title_from_url

    cnn = "https://www.cnn.com/2023/01/04/football/damar-hamlin-collapse-bills/index.html"
    assert title_from_url(cnn) == "Damar hamlin collapse bills"
    assert date_from_url(cnn) == "2023-01-04"
    usat = "https://www.usatoday.com/story/news/2023/01/05/pope-funeral-what-we-know/10991034002/"
    assert title_from_url(usat) == "Pope funeral what we know"
    assert title_from_url("https://example.org/a/b") is None
    assert date_from_url("https://example.org/a/b") is None


def test_publisher_from_url_names_known_sites_else_the_domain() -> None:
    cases = {
        "https://www.usatoday.com/story/news/2023/01/02/x/1/": "USA Today",
        "https://edition.cnn.com/2023/01/02/world/x/index.html": "CNN",
        "https://abcnews.go.com/US/x": "ABC News",
        "https://www.bbc.co.uk/news/x": "BBC",
        "https://www.theweek.co.uk/news/1/x": "The Week",
        "https://www.example-gazette.org/a": "example-gazette.org",
        "https://news.regional.co.uk/a": "regional.co.uk",
        "http://127.0.0.1:8000/a": None,
        "not a url": None,
    }
    assert {url: publisher_from_url(url) for url in cases} == cases
    assert registrable_domain("WWW.Example.COM.") == "example.com"
