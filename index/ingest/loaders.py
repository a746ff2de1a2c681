"""Turn files into `Article`s: plain text, Markdown, HTML, JSON/JSON Lines, PDF and DOCX.

Every problem with an input becomes a `LoadProblem` naming the file (and line), and
loading carries on with the rest. What a user should know about a file that was still
loaded (the encoding it was read with) becomes a `LoadNote`. Which suffixes are read
is the data in `LOADERS`; files of other types in a folder are reported, one line per
type. PDF and Word files are read by `index.ingest.documents`.
"""

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.articles import Article, derived_id, slugify
from index.ingest.documents import UnreadableDocument, read_docx, read_pdf
from index.ingest.encodings import decode_text
from index.ingest.metadata import (
    date_from_filename,
    date_from_url,
    parse_date,
    parse_header,
    title_from_url,
)
from index.ingest.publishers import publisher_from_url

_RECORD_FIELDS = ("text", "title", "date", "url", "source", "author", "doc_id")
_NAMES_SHOWN = 5  # unsupported files named per line, then "and N more"


@dataclass(frozen=True)
class LoadProblem:
    """Why one file (or one line of it) was not ingested."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(frozen=True)
class LoadNote:
    """Something worth knowing about a file that was still ingested."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


Loaded = Article | LoadProblem | LoadNote


def find_files(
    paths: Iterable[Path], exclude: Iterable[Path] = ()
) -> tuple[list[Path], list[LoadProblem]]:
    """Expand files and directories (recursively) into the supported files to load.

    Files of other types inside a directory are reported in one line per type;
    directories in `exclude` (the index's own data directory) are not walked.
    """
    skip = {p.resolve() for p in exclude}
    files: list[Path] = []
    problems: list[LoadProblem] = []
    for path in paths:
        if path.is_dir():
            unsupported: dict[str, list[str]] = defaultdict(list)
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not d.startswith(".") and (Path(root) / d).resolve() not in skip
                )
                for name in sorted(n for n in names if not n.startswith(".")):
                    file = Path(root) / name
                    if file.suffix.lower() in LOADERS:
                        files.append(file)
                    else:
                        unsupported[file.suffix.lower()].append(file.relative_to(path).as_posix())
            problems.extend(
                _unsupported(path, kind, names) for kind, names in sorted(unsupported.items())
            )
        elif path.is_file():
            if path.suffix.lower() in LOADERS:
                files.append(path)
            else:
                kinds = ", ".join(sorted(LOADERS))
                problems.append(LoadProblem(str(path), f"unsupported file type (use {kinds})"))
        else:
            problems.append(LoadProblem(str(path), "no such file or directory"))
    return files, problems


def _unsupported(folder: Path, suffix: str, names: list[str]) -> LoadProblem:
    """One line for the files of one unsupported type found in a folder."""
    count = len(names)
    kind = suffix or "(no extension)"
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = f" and {count - _NAMES_SHOWN} more" if count > _NAMES_SHOWN else ""
    plural = "s" * (count != 1)
    return LoadProblem(
        str(folder), f"{count} file{plural} of unsupported type {kind}: {shown}{more}"
    )


def load_file(path: Path, max_bytes: int) -> Iterator[Loaded]:
    """Yield the articles in one file, and a problem for anything unusable."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            limit = max_bytes / 1_000_000
            yield LoadProblem(
                str(path),
                f"file is {size / 1_000_000:.1f} MB, over the {limit:g} MB limit "
                "(raise ingest.max_file_mb to allow it)",
            )
            return
        data = path.read_bytes()
    except OSError as exc:
        yield LoadProblem(str(path), f"can't read: {exc.strerror or exc}")
        return
    if not data.strip():
        yield LoadProblem(str(path), "empty file")
        return
    loader = LOADERS[path.suffix.lower()]
    if loader.reads_bytes:
        yield from loader.load(path, data)
        return
    decoded = decode_text(data) if b"\x00" not in data[:8192] or data[:2] in _UTF16_BOMS else None
    if decoded is None:
        yield LoadProblem(str(path), "binary file, not text")
        return
    if note := decoded.note():
        yield LoadNote(str(path), note)
    yield from loader.load(path, decoded.text)


def _load_text(path: Path, text: str) -> Iterator[Loaded]:
    """A plain-text or Markdown article, with metadata from its header lines."""
    header = parse_header(text)
    body = text[header.body_start :]
    if not body.strip():
        yield LoadProblem(str(path), "no article text after the header lines")
        return
    yield Article(
        id=slugify(path.stem) or derived_id(str(path)),
        text=body,
        title=header.title or path.stem.replace("_", " ").replace("-", " "),
        origin=str(path.resolve()),
        date=header.date or date_from_filename(path.name),
        source=header.source,
        url=header.url,
        author=header.author,
        id_from_filename=True,
    )


def _load_html(path: Path, data: bytes) -> Iterator[Loaded]:
    """The main text and metadata of a web page, extracted by trafilatura."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, as_dict=True
    )
    meta: dict[str, Any] = doc if isinstance(doc, dict) else {}
    text = meta.get("text")
    if not text or not text.strip():
        yield LoadProblem(str(path), "no article text found in the page")
        return
    yield Article(
        id=slugify(path.stem) or derived_id(str(path)),
        text=text,
        title=meta.get("title") or path.stem,
        origin=str(path.resolve()),
        date=(parse_date(meta["date"], dayfirst=False) if meta.get("date") else None)
        or date_from_filename(path.name),
        source=_site_name(meta.get("sitename"))
        or _publisher(meta.get("url"))
        or meta.get("hostname"),
        url=meta.get("url"),
        author=meta.get("author"),
        id_from_filename=True,
    )


def _load_json(path: Path, text: str) -> Iterator[Loaded]:
    """Records from a JSON array/object, or one record per line of JSON Lines."""
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" and stripped[:1] in "[{":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            if stripped[:1] == "{" and "\n{" in stripped:
                yield from _load_json_lines(path, text)
                return
            yield LoadProblem(f"{path}:{exc.lineno}", f"malformed JSON ({exc.msg})")
            return
        records = parsed if isinstance(parsed, list) else [parsed]
        for i, record in enumerate(records, 1):
            yield _record_to_article(record, path, f"{path}[{i}]")
        return
    yield from _load_json_lines(path, text)


def _load_json_lines(path: Path, text: str) -> Iterator[Loaded]:
    """One record per line; a malformed line is reported by number and skipped."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield LoadProblem(f"{path}:{lineno}", f"malformed JSON line ({exc.msg})")
            continue
        yield _record_to_article(record, path, f"{path}:{lineno}")


def _record_to_article(record: Any, path: Path, location: str) -> Article | LoadProblem:
    """Validate one JSON record: `text` is required, the other fields optional."""
    if not isinstance(record, dict):
        return LoadProblem(location, "expected a JSON object with a 'text' field")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return LoadProblem(location, "missing or empty 'text' field")
    fields = {k: record.get(k) for k in _RECORD_FIELDS}
    links = record.get("links")
    if fields["url"] is None and isinstance(links, list) and links and isinstance(links[0], str):
        fields["url"] = links[0]
    bad = [k for k, v in fields.items() if v is not None and not isinstance(v, str | int)]
    if bad:
        return LoadProblem(location, f"field '{bad[0]}' must be a string")
    meta = {k: str(v).strip() or None if v is not None else None for k, v in fields.items()}
    url = meta["url"]
    title = meta["title"] or (url and title_from_url(url)) or text.strip().splitlines()[0][:120]
    raw_date = meta["date"]
    doc_id = meta["doc_id"] or derived_id(url, meta["title"], text[:2000])
    return Article(
        id=doc_id,
        text=text,
        title=title,
        origin=url or f"{path.resolve()}#{doc_id}",
        date=(parse_date(raw_date, dayfirst=False) if raw_date else None)
        or (date_from_url(url) if url else None),
        source=meta["source"] or _publisher(url),
        url=url,
        author=meta["author"],
    )


def _site_name(name: str | None) -> str | None:
    """trafilatura's site name, unless it is only a host name ('nytimes.com')."""
    return None if not name or ("." in name and " " not in name.strip()) else name


def _publisher(url: str | None) -> str | None:
    """The publisher a URL names, for records that don't say."""
    return publisher_from_url(url) if url else None


@dataclass(frozen=True)
class Loader:
    """How files of one type are read: from their bytes, or from their decoded text."""

    load: Callable[[Path, Any], Iterator[Loaded]]
    reads_bytes: bool = False


def _document(read: Callable[[Path, bytes], Article]) -> Loader:
    """A loader for a document reader: a file it can't read is one problem line."""

    def load(path: Path, data: bytes) -> Iterator[Loaded]:
        try:
            yield read(path, data)
        except UnreadableDocument as exc:
            yield LoadProblem(str(path), str(exc))

    return Loader(load, reads_bytes=True)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Suffix -> loader. A new format is a new entry here.
LOADERS: dict[str, Loader] = {
    ".txt": Loader(_load_text),
    ".md": Loader(_load_text),
    ".markdown": Loader(_load_text),
    ".html": Loader(_load_html, reads_bytes=True),
    ".htm": Loader(_load_html, reads_bytes=True),
    ".json": Loader(_load_json),
    ".jsonl": Loader(_load_json),
    ".ndjson": Loader(_load_json),
    ".pdf": _document(read_pdf),
    ".docx": _document(read_docx),
}
SUPPORTED = set(LOADERS)
