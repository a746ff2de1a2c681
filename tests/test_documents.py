"""PDF and Word files (issue #14): real files built in the test with reportlab and
python-docx, read through the loaders, ingested, asked about, and a batch of bad ones
reported by the real `newsbot ingest`."""

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import docx
import pytest
from harness.newsbot import run_newsbot
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from bot.config import Settings
from bot.service import AnsweringService
from index.articles import Article
from index.ingest.batches import IngestReport
from index.ingest.documents import reflow
from index.ingest.loaders import LoadProblem, load_file
from index.store.chunks import ChunkStore

LIMIT = 1_000_000
HARBOUR = [
    "Harbour reopens after storm",
    "The harbour of Port Alma reopened on Friday after a storm closed it for",
    "three days, the port authority said. Fishing boats returned by noon.",
]
FOOTER = "Port Alma Courier | Harbour report"
BOATS = (
    "Fishing boats returned to the docks of Port Alma on Friday after the harbour "
    "master confirmed that the northern breakwater, repaired with the money from the "
    "international storm fund, was safe for every vessel under two hundred tonnes."
)
# three pages with a running footer and page numbers; BOATS is broken across three
# lines, then across the page break, in the middle of a word hyphenated there
REPORT = [
    [
        "Harbour reopens after the winter storm",
        "The storm that closed the harbour of Port Alma last week was the worst",
        "in forty years, the regional weather office said. Fishing boats returned",
        "to the docks of Port Alma on Friday after the harbour master confirmed",
        "that the northern breakwater, repaired with the money from the inter-",
    ],
    [
        "national storm fund, was safe for every vessel under two hundred tonnes.",
        "Traders said the closure had cost them most of a busy week of business.",
        "Repairs to the southern quay will begin in March and should take six",
        "weeks, according to the port authority, which expects no more delays.",
    ],
    [
        "The council will publish its full account of the storm damage in April,",
        "together with the cost of the repairs to both of the harbour walls.",
    ],
]
REPORT_TEXT = (
    "Harbour reopens after the winter storm\n\n"
    "The storm that closed the harbour of Port Alma last week was the worst in forty "
    f"years, the regional weather office said. {BOATS} Traders said the closure had cost "
    "them most of a busy week of business. Repairs to the southern quay will begin in "
    "March and should take six weeks, according to the port authority, which expects no "
    "more delays.\n\n"
    "The council will publish its full account of the storm damage in April, together "
    "with the cost of the repairs to both of the harbour walls."
)


def write_pdf(
    path: Path, pages: list[list[str]], footer: str = "", info: dict[str, str] | None = None
) -> Path:
    """A PDF with one drawn line of text per entry, and only the metadata in `info`."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for number, lines in enumerate(pages, 1):
        for row, line in enumerate(lines):
            canvas.drawString(72, 780 - 16 * row, line)
        if footer:
            canvas.drawString(72, 48, footer)
            canvas.drawString(300, 32, str(number))
        canvas.showPage()
    canvas.save()
    writer = PdfWriter()  # without reportlab's own metadata ("untitled", created now)
    for page in PdfReader(buffer).pages:
        writer.add_page(page)
    writer.add_metadata(info or {})
    writer.write(path)
    return path


def write_scan(path: Path) -> Path:
    """A scanned page: a picture of text, and no text layer."""
    picture = Image.new("L", (600, 120), 255)
    ImageDraw.Draw(picture).text((10, 40), "The harbour reopened on Friday.", fill=0)
    canvas = Canvas(str(path), pagesize=A4)
    canvas.drawImage(ImageReader(picture), 72, 600, width=450, height=90)
    canvas.showPage()
    canvas.save()
    return path


def encrypt(
    source: Path,
    path: Path,
    user_password: str,
    owner_password: str | None = None,
    algorithm: str | None = None,
) -> Path:
    """A copy of a PDF, encrypted (with RC4 unless `algorithm` says otherwise)."""
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password, owner_password, algorithm=algorithm)
    writer.write(path)
    return path


def load_one(path: Path) -> Article | LoadProblem:
    """The one article (or problem) a file gives."""
    (item,) = load_file(path, LIMIT)
    assert isinstance(item, Article | LoadProblem), item
    return item


def test_a_pdf_takes_title_date_and_author_from_its_metadata(tmp_path: Path) -> None:
    info = {
        "/Title": "Port Alma harbour reopens",
        "/CreationDate": "D:20230105093000+01'00'",
        "/Author": "Ana Ruiz",
    }
    path = write_pdf(tmp_path / "harbour.pdf", [HARBOUR], info=info)
    article = load_one(path)
    assert isinstance(article, Article)
    assert (article.id, article.title, article.date, article.author) == (
        "harbour",
        "Port Alma harbour reopens",
        "2023-01-05",
        "Ana Ruiz",
    )
    assert article.text == (
        "Harbour reopens after storm\n\nThe harbour of Port Alma reopened on Friday after "
        "a storm closed it for three days, the port authority said. Fishing boats returned "
        "by noon."
    )
    assert article.origin == str(path.resolve())


def test_a_pdf_without_metadata_takes_its_first_line_and_the_date_in_its_name(
    tmp_path: Path,
) -> None:
    info = {"/Title": "untitled", "/Author": "anonymous"}  # reportlab's defaults
    article = load_one(write_pdf(tmp_path / "2023-01-05-report.pdf", [HARBOUR], info=info))
    assert isinstance(article, Article)
    assert (article.title, article.date, article.author) == (
        "Harbour reopens after storm",
        "2023-01-05",
        None,
    )


def test_a_sentence_broken_across_lines_and_pages_is_whole_and_quoted_exactly(
    settings: Settings, ingest: Callable[..., IngestReport], tmp_path: Path
) -> None:
    path = write_pdf(tmp_path / "storm-report.pdf", REPORT, footer=FOOTER)
    article = load_one(path)
    assert isinstance(article, Article)
    assert article.text == REPORT_TEXT  # whole sentences, no footer or page numbers

    report = ingest(path)
    assert (report.new, report.problems) == (1, [])
    answer = AnsweringService.open(settings).ask(
        "When did the fishing boats return to the docks of Port Alma?"
    )
    assert not answer.abstained, answer.text
    (citation,) = [c for c in answer.citations if c.article_id == "storm-report"]
    assert citation.snippet == article.text[citation.start : citation.end]
    assert BOATS in citation.snippet


@pytest.mark.parametrize(
    ("pages", "text"),
    [
        (
            ["officials said the inter-\nnational fund paid"],
            "officials said the international fund paid",
        ),
        (
            ["officials opened a new Covid-\n19 ward and signed an Anglo-\nAmerican deal today"],
            "officials opened a new Covid-19 ward and signed an Anglo-American deal today",
        ),
        (["the mayor of the town -\nwho spoke first"], "the mayor of the town - who spoke first"),
        (
            ["there was a soft hy\u00ad\nphen and a ligature: \ufb01sh"],
            "there was a soft hyphen and a ligature: fish",
        ),
        (
            ["A whole line that ends one sentence.\nAnother full line follows it here."],
            "A whole line that ends one sentence. Another full line follows it here.",
        ),
        (
            ["One paragraph ends here, as lines do.\n\nAnother begins after a blank line."],
            "One paragraph ends here, as lines do.\n\nAnother begins after a blank line.",
        ),
        (
            [
                "Storm news\nThe harbour of Port Alma reopened on Friday after the long\n"
                "storm.\nBoats came back on Saturday morning from the open sea and\nthe bay."
            ],
            "Storm news\n\nThe harbour of Port Alma reopened on Friday after the long storm."
            "\n\nBoats came back on Saturday morning from the open sea and the bay.",
        ),
        (
            ["The harbour of Port Alma reopened on Friday after the", "storm, officials said."],
            "The harbour of Port Alma reopened on Friday after the storm, officials said.",
        ),
        (
            ["The harbour of Port Alma reopened on Friday after the storm.", "Boats came back."],
            "The harbour of Port Alma reopened on Friday after the storm.\n\nBoats came back.",
        ),
        (
            [
                "The harbour of Port Alma reopened\non Friday after the storm\n1",
                "and the boats came back\nby noon, officials said.\nPage 2 of 2",
            ],
            "The harbour of Port Alma reopened on Friday after the storm and the boats came "
            "back by noon, officials said.",
        ),
    ],
    ids=[
        "line-break-hyphen",
        "a-word-s-own-hyphen",
        "a-dash",
        "soft-hyphen-and-ligature",
        "sentences-of-one-paragraph",
        "blank-line",
        "heading-and-short-last-line",
        "sentence-across-pages",
        "page-ending-a-sentence",
        "page-numbers",
    ],
)
def test_reflow(pages: list[str], text: str) -> None:
    assert reflow(pages) == text


def test_reflow_drops_a_running_header_repeated_on_most_pages() -> None:
    body = [
        "The harbour reopened on Friday after",
        "a storm that closed it for three days",
        "while the boats waited out at sea",
        "and the traders counted their losses.",
    ]
    pages = [f"Port Alma Courier, {5 + i} January\n{line}" for i, line in enumerate(body)]
    assert reflow(pages) == " ".join(body)
    assert reflow(pages[:2]).startswith("Port Alma Courier")  # two pages can't tell


def test_a_docx_takes_its_core_properties_and_keeps_headings_as_paragraphs(
    tmp_path: Path,
) -> None:
    document = docx.Document()
    document.core_properties.title = "Ferry strike ends"
    document.core_properties.author = "Ben Ode"
    document.core_properties.created = datetime(2023, 2, 3, 8, 0)
    document.add_heading("Glimmerstone ferry strike ends after five days", level=1)
    document.add_paragraph(
        "The Glimmerstone ferry strike ended on Friday after the crews won a raise."
    )
    document.add_paragraph("A spokesman said passengers should check the timetable.")
    document.add_heading("What changes", level=2)
    document.add_paragraph("Crews will be paid\tmore  for night sailings.")
    table = document.add_table(rows=2, cols=2)
    rows = [("Route", "Sailings"), ("Alma to Marrow", "12")]
    for row, texts in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    document.add_paragraph("")
    document.save(str(tmp_path / "ferry.docx"))

    article = load_one(tmp_path / "ferry.docx")
    assert isinstance(article, Article)
    assert (article.id, article.title, article.date, article.author) == (
        "ferry",
        "Ferry strike ends",
        "2023-02-03",
        "Ben Ode",
    )
    assert article.text.split("\n\n") == [
        "Glimmerstone ferry strike ends after five days",
        "The Glimmerstone ferry strike ended on Friday after the crews won a raise.",
        "A spokesman said passengers should check the timetable.",
        "What changes",
        "Crews will be paid more for night sailings.",
        "Route | Sailings",
        "Alma to Marrow | 12",
    ]


def test_a_docx_without_properties_takes_its_first_paragraph_and_the_date_in_its_name(
    tmp_path: Path,
) -> None:
    document = docx.Document()  # python-docx's template: no title, its own author and date
    document.add_paragraph("Ferry strike ends")
    document.add_paragraph("The Glimmerstone ferry strike ended on Friday.")
    document.save(str(tmp_path / "2023-02-03-ferry.docx"))
    article = load_one(tmp_path / "2023-02-03-ferry.docx")
    assert isinstance(article, Article)
    assert (article.title, article.date, article.author) == (
        "Ferry strike ends",
        "2023-02-03",
        None,
    )


def test_a_pdf_encrypted_without_a_user_password_is_read(tmp_path: Path) -> None:
    plain = write_pdf(tmp_path / "plain.pdf", [HARBOUR])
    locked = encrypt(plain, tmp_path / "locked.pdf", "", owner_password="o", algorithm="AES-256")
    article, original = load_one(locked), load_one(plain)
    assert isinstance(article, Article) and isinstance(original, Article)
    assert article.text == original.text


def test_bad_documents_are_one_line_each_and_the_rest_is_ingested(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = write_pdf(inbox / "good.pdf", [HARBOUR])
    encrypt(good, inbox / "locked.pdf", "secret")
    write_scan(inbox / "scan.pdf")
    (inbox / "torn.pdf").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("The Glimmerstone ferry strike ended on Friday.")
    document.save(buffer)
    (inbox / "torn.docx").write_bytes(buffer.getvalue()[:2000])

    result = run_newsbot("ingest", "inbox", "--data-dir", "data", cwd=tmp_path)
    assert result.returncode == 1
    locked, scan, torn_docx, torn_pdf = result.stderr.strip().splitlines()
    assert locked == "skipped inbox/locked.pdf: encrypted PDF; decrypt it first"
    assert scan == (
        "skipped inbox/scan.pdf: no text layer (a scanned or image-only PDF?); run OCR first"
    )
    assert torn_docx == (
        "skipped inbox/torn.docx: not a readable Word document (File is not a zip file)"
    )
    assert torn_pdf.startswith("skipped inbox/torn.pdf: not a readable PDF (")
    assert result.stdout.startswith("1 new, 0 updated, 0 unchanged")
    assert result.stdout.strip().endswith("; 4 problems")
    assert list(ChunkStore(tmp_path / "data").articles()) == ["good"]
