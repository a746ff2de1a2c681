"""Read PDF (pypdf) and Word .docx (python-docx) files into `Article`s.

The article's text is the document's text reflowed: lines, and pages, are joined
inside a paragraph, so a sentence broken across them is whole again, and quotes are
offsets into that reflowed text. Title, date and author come from the document's
metadata, else the title from its first paragraph and the date from the file name.
A file that can't be read raises `UnreadableDocument`, whose message is the reason.
"""

import io
import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from index.articles import Article, derived_id, slugify
from index.ingest.metadata import date_from_filename, parse_date

log = logging.getLogger(__name__)

ENCRYPTED = "encrypted PDF; decrypt it first"
NO_TEXT_LAYER = "no text layer (a scanned or image-only PDF?); run OCR first"

_MAX_TITLE = 120
_MAX_REASON = 100  # characters of a parser's message in a problem line
_SHORT_LINE = 0.7  # a line shorter than this share of a full line may end a paragraph
_FULL_LINE = 0.8  # a full line is as long as this share of the lines (a percentile)
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019\u00bb)\]]*$")
_OPENING = "\"'\u201c\u2018\u00ab(["
_PAGE_NUMBER = re.compile(
    r"(?:page\s+)?\d+(?:\s*(?:of|/)\s*\d+)?|[-\u2013\u2014]\s*\d+\s*[-\u2013\u2014]", re.I
)
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb06": "st",
    }
)
_SOFT_HYPHEN = "\u00ad"
_PLACEHOLDERS = {"untitled", "anonymous", "unknown", "unspecified", "word document", "python-docx"}
_FILE_NAME = re.compile(r"^microsoft \w+ - |\.(?:docx?|pdf|rtf|odt|txt|html?)$", re.I)
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d\d)(\d\d)")
# python-docx's own template says it was created then; a file made from it wasn't
_DOCX_TEMPLATE_CREATED = datetime(2013, 12, 23, 23, 15)


class UnreadableDocument(Exception):
    """A PDF or DOCX file whose text can't be read; str() is the reason, for a person."""


def read_pdf(path: Path, data: bytes) -> Article:
    """The text layer of a PDF, reflowed, with the title, date and author it declares."""
    from pypdf import PasswordType, PdfReader

    # pypdf raises many kinds of exception on a damaged file, not only PyPdfError
    with _quiet("pypdf"):
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise UnreadableDocument(ENCRYPTED)  # empty passwords are common, others aren't
            pages = [page.extract_text() or "" for page in reader.pages]
            info = dict(reader.metadata or {})
        except UnreadableDocument:
            raise
        except Exception as exc:
            log.debug("can't parse %s as a PDF", path, exc_info=True)
            raise UnreadableDocument(f"not a readable PDF ({_describe(exc)})") from exc
    if not any(page.strip() for page in pages):
        raise UnreadableDocument(NO_TEXT_LAYER if pages else "not a readable PDF (no pages)")
    created = str(info.get("/CreationDate") or "")
    return _article(
        path,
        reflow(pages),
        title=_declared(info.get("/Title")),
        when=_pdf_date(created) if created else None,
        author=_declared(info.get("/Author")),
    )


def read_docx(path: Path, data: bytes) -> Article:
    """The paragraphs (headings and table rows too) of a Word file, with its core properties."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [
            _table_rows(block) if isinstance(block, Table) else [block.text]
            for block in document.iter_inner_content()
        ]
        core = document.core_properties
        title, author, created = core.title, core.author, core.created
    except Exception as exc:  # a zip, XML or package error, depending on the damage
        log.debug("can't parse %s as a Word document", path, exc_info=True)
        raise UnreadableDocument(f"not a readable Word document ({_describe(exc)})") from exc
    text = "\n\n".join(p for block in paragraphs for p in map(_clean, block) if p)
    if not text:
        raise UnreadableDocument("no text in the document")
    if created is not None and created.replace(tzinfo=None) == _DOCX_TEMPLATE_CREATED:
        created = None
    return _article(
        path,
        text,
        title=_declared(title),
        when=created.date().isoformat() if created else None,
        author=_declared(author),
    )


def reflow(pages: Sequence[str]) -> str:
    """Pages of extracted lines as paragraphs separated by blank lines.

    Inside a paragraph a line break is a space, or nothing after a hyphen that breaks
    a word (see `_join`). A paragraph ends at a blank line, after a short line that
    ends a sentence or comes before a capital (a heading), and at the end of a page
    that ends a sentence. Bare page numbers and running headers and footers (a first
    or last line repeated on most pages) go.
    """
    lines_of = _without_furniture([[_clean(line) for line in page.splitlines()] for page in pages])
    lengths = sorted(len(line) for lines in lines_of for line in lines if line)
    full = lengths[min(len(lengths) - 1, int(len(lengths) * _FULL_LINE))] if lengths else 0
    paragraphs: list[str] = []
    text, last, page_break = "", "", False
    for lines in lines_of:
        for line in lines:
            if not line:
                if text:
                    paragraphs.append(text)
                text = ""
                continue
            if text and _ends_paragraph(last, line, full, page_break):
                paragraphs.append(text)
                text = ""
            text = _join(text, line) if text else line
            last, page_break = line, False
        page_break = True
    if text:
        paragraphs.append(text)
    return "\n\n".join(p.replace(_SOFT_HYPHEN, "") for p in paragraphs)


def _ends_paragraph(last: str, line: str, full: int, page_break: bool) -> bool:
    """Whether `last` ends a paragraph, `line` being the next line (on the next page)."""
    ends_sentence = bool(_SENTENCE_END.search(last))
    if page_break and ends_sentence:
        return True
    opening = line.lstrip(_OPENING)[:1]
    starts_anew = opening.isupper() or opening.isdigit()
    return len(last) < _SHORT_LINE * full and (ends_sentence or starts_anew)


def _join(text: str, line: str) -> str:
    """Two lines of one paragraph: a space between, unless a hyphen broke a word there.

    A hyphen between lowercase letters was the line's ("inter-" + "national"); another
    one after a letter or digit is the word's own ("Covid-" + "19").
    """
    if text.endswith(_SOFT_HYPHEN):
        return text[:-1] + line
    if len(text) > 1 and text[-1] == "-" and not text[-2].isspace():
        return text[:-1] + line if text[-2].islower() and line[:1].islower() else text + line
    return f"{text} {line}"


def _without_furniture(pages: list[list[str]]) -> list[list[str]]:
    """The pages' lines without bare page numbers and running headers and footers."""
    pages = [[line for line in lines if not _PAGE_NUMBER.fullmatch(line)] for lines in pages]
    edges = [_edges(lines) for lines in pages]
    seen = Counter(
        _furniture_key(lines[i]) for lines, found in zip(pages, edges, strict=True) for i in found
    )
    repeated = {key for key, count in seen.items() if count >= 3 and count >= len(pages) / 2}
    return [
        [
            line
            for i, line in enumerate(lines)
            if i not in found or _furniture_key(line) not in repeated
        ]
        for lines, found in zip(pages, edges, strict=True)
    ]


def _edges(lines: list[str]) -> set[int]:
    """The positions of a page's first and last non-blank lines."""
    filled = [i for i, line in enumerate(lines) if line]
    return {filled[0], filled[-1]} if filled else set()


def _furniture_key(line: str) -> str:
    """A header or footer line as it repeats from page to page: the page number aside."""
    return re.sub(r"\d+", "#", line.lower())


def _clean(line: str) -> str:
    """One line with its whitespace collapsed, ligatures spelled out, soft hyphens gone
    (but one that ends the line, which `_join` needs)."""
    line = " ".join(line.translate(_LIGATURES).split())
    soft_end = line.endswith(_SOFT_HYPHEN)
    line = line.replace(_SOFT_HYPHEN, "")
    return line + _SOFT_HYPHEN if soft_end and line else line


def _table_rows(table: Any) -> list[str]:
    """A table as one paragraph per row, its cells joined by ' | ' (a merged cell once)."""
    rows = []
    for row in table.rows:
        texts = [_clean(cell.text) for cell in row.cells]
        cells = [t for i, t in enumerate(texts) if t and (i == 0 or t != texts[i - 1])]
        rows.append(" | ".join(cells))
    return rows


def _article(
    path: Path, text: str, title: str | None, when: str | None, author: str | None
) -> Article:
    """The article of one document; its id is the file name, as for text files."""
    return Article(
        id=slugify(path.stem) or derived_id(str(path)),
        text=text,
        title=title or _first_paragraph(text),
        origin=str(path.resolve()),
        date=when or date_from_filename(path.name),
        author=author,
        id_from_filename=True,
    )


def _first_paragraph(text: str) -> str:
    """The first paragraph as a title, cut at a word when it is long."""
    first = text.split("\n\n", 1)[0]
    if len(first) <= _MAX_TITLE:
        return first
    return first[: _MAX_TITLE + 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def _declared(value: object) -> str | None:
    """A title or author from metadata, unless it is blank, a tool's default or a file name."""
    text = " ".join(str(value).split()) if value is not None else ""
    if not text or text.lower() in _PLACEHOLDERS or _FILE_NAME.search(text):
        return None
    return text


def _pdf_date(raw: str) -> str | None:
    """The date of a PDF date string ("D:20230105093000+01'00'"), or of an ISO one."""
    match = _PDF_DATE.match(raw.strip())
    if not match:
        return (parse_date(raw, dayfirst=False) or "")[:10] or None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def _describe(exc: Exception) -> str:
    """An exception as a short reason on one line: the parser's message, or a builtin's
    type and message."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    if len(message) > _MAX_REASON:
        message = message[:_MAX_REASON].rstrip() + "\u2026"
    if type(exc).__module__ == "builtins" and message != type(exc).__name__:
        return f"{type(exc).__name__}: {message}"
    return message


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Hold back a library's complaints about damage it works around, since the outcome
    is reported; unless the log is at DEBUG, where they may help."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    if not logger.isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
