"""Title, date and byline from the header lines of a plain-text or Markdown article.

The seed format is:

    Last Update: 06/09/2004 13:45
    Russian FM welcomes Israeli cooperation on terror
    By Haaretz Service

    Body...

Any of these lines may be missing; whatever is found is taken out of the body.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import yaml
from dateutil import parser as dateparser

_DATE_LINE = re.compile(
    r"^\s*(?:last\s+update[d]?|updated|published|posted|date)\s*:\s*(?P<date>.+?)\s*$", re.I
)
_BYLINE = re.compile(r"^\s*by\s+(?P<by>[^\W\d][\w.'\u2019\- ,&]{1,80})\s*$", re.I)
_HEADING = re.compile(r"^\s*#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
_FILE_DATE = re.compile(r"(?P<y>(?:19|20)\d\d)[-_.](?P<m>\d\d)[-_.](?P<d>\d\d)")
_BYLINE_SUFFIX = re.compile(r"\s+(?:service|staff|correspondents?|reporters?|news\s+desk)$", re.I)
_SLUG_WORD = re.compile(r"[^\W_]+")
_FRONT_MATTER = re.compile(r"\A---\s*\n(?P<yaml>.*?\n)---\s*\n", re.S)
_MAX_TITLE = 200
_HEADER_LINES = 6


@dataclass(frozen=True)
class Header:
    """What the header lines said, and where the body starts."""

    body_start: int
    title: str | None = None
    date: str | None = None
    author: str | None = None
    source: str | None = None
    url: str | None = None


def parse_date(text: str, dayfirst: bool = True) -> str | None:
    """Normalise a date or timestamp to ISO 8601 (YYYY-MM-DD, or with a time when given)."""
    try:
        parsed = dateparser.parse(text, dayfirst=dayfirst, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    has_time = bool(re.search(r"\d:\d\d", text))
    return parsed.isoformat(timespec="minutes") if has_time else parsed.date().isoformat()


def date_from_filename(name: str) -> str | None:
    """A YYYY-MM-DD date embedded in a file name, if any."""
    match = _FILE_DATE.search(name)
    if not match:
        return None
    try:
        return datetime(int(match["y"]), int(match["m"]), int(match["d"])).date().isoformat()
    except ValueError:
        return None


def title_from_url(url: str) -> str | None:
    """A readable title from a news URL's slug: '.../damar-hamlin-collapse/index.html'."""
    path = urlsplit(url).path
    segments = [re.sub(r"\.(s?html?|php|aspx?)$", "", seg) for seg in path.split("/")]
    slugs = [seg for seg in segments if len(_SLUG_WORD.findall(seg)) >= 3]
    if not slugs:
        return None
    words = _SLUG_WORD.findall(max(slugs, key=len))
    while words and words[-1].isdigit():
        words.pop()
    return " ".join(words).capitalize() if words else None


def date_from_url(url: str) -> str | None:
    """A /YYYY/MM/DD/ (or YYYY-MM-DD) date in a URL's path, if any."""
    return date_from_filename(urlsplit(url).path.replace("/", "-"))


def publisher_from_byline(byline: str) -> str | None:
    """'Haaretz Service' -> 'Haaretz'; a person's name gives no publisher."""
    stripped = _BYLINE_SUFFIX.sub("", byline)
    return stripped if stripped != byline else None


def parse_header(text: str) -> Header:
    """Read the leading metadata lines (or YAML front matter) of a text article."""
    front = _FRONT_MATTER.match(text)
    if front:
        return _from_front_matter(text, front)
    found: dict[str, str] = {}
    body_start = 0
    pos = 0
    seen = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        end = pos + len(line)
        if not stripped:
            pos = end
            if found:
                body_start = end
            continue
        seen += 1
        if seen > _HEADER_LINES or not _take_header_line(stripped, found):
            break
        pos = body_start = end
    return Header(body_start=body_start, **found)


def _take_header_line(line: str, found: dict[str, str]) -> bool:
    """Record a header line in `found`; False when the line is body text."""
    if "date" not in found and (match := _DATE_LINE.match(line)):
        date = parse_date(match["date"])
        if date:
            found["date"] = date
            return True
    if "author" not in found and (match := _BYLINE.match(line)):
        found["author"] = match["by"].strip()
        publisher = publisher_from_byline(found["author"])
        if publisher:
            found["source"] = publisher
        return True
    if "title" not in found:
        heading = _HEADING.match(line)
        title = heading["title"] if heading else line
        if heading or _looks_like_title(title):
            found["title"] = title
            return True
    return False


def _looks_like_title(line: str) -> bool:
    """A short line that doesn't end like a sentence."""
    return len(line) <= _MAX_TITLE and not line.endswith((".", "?", "!", ":", ";", ",", '"'))


def _from_front_matter(text: str, front: re.Match[str]) -> Header:
    """Metadata from a Markdown YAML front-matter block."""
    try:
        meta = yaml.safe_load(front["yaml"]) or {}
    except yaml.YAMLError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}

    def field(name: str) -> str | None:
        value = meta.get(name)
        return str(value).strip() if value not in (None, "") else None

    rest = parse_header(text[front.end() :])
    raw_date = field("date")
    return Header(
        body_start=front.end() + rest.body_start,
        title=field("title") or rest.title,
        date=(parse_date(raw_date, dayfirst=False) if raw_date else None) or rest.date,
        author=field("author") or rest.author,
        source=field("source") or field("publisher") or rest.source,
        url=field("url") or rest.url,
    )
