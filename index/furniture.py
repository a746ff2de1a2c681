"""The lines of an article that aren't its prose: page furniture a scraper keeps.

Scraped news text carries, on lines of their own, datelines ("Dec. 31, 2025 Updated
Jan. 1, 2026, 1:27 a.m. ET", "Washington CNN —"), "Updated …" stamps and notes
("This story has been updated with …"), bylines and reporter credit lines ("By Jane
Roe, USA TODAY", "\u2013 David Jackson", "Contributing: The Associated Press"), photo
credits ("Megan Varner/Getty Images") and the captions they end, "AI-assisted
summary" blocks, share/subscribe/newsletter promos, links to related stories ("Tax
refunds:Americans could see …") and rules ("____"). Each is found
here as a span of the text with its kind. The text itself is never changed: the lines
stay searchable, and quotes stay exact slices of it; but no quote, story lead or
digest line is taken from inside one of these spans.

Ingest records the spans of every chunk in its metadata (index/store/schema.py), so
answers and digests read what ingest recognised; `spans_in` reads that record and
recognises afresh for chunks stored before it existed.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

KINDS = ("dateline", "updated", "byline", "credit", "caption", "summary", "promo", "rule")

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?"
_ZONE = r"(?:[ECMP][SD]?T|GMT|UTC|BST|CET)"
_STAMP_WORD = r"(?:Updated|Published|Posted|Last\s+updated|Modified|Originally\s+published)"
# A line made of dates, times and stamp words only: a dateline or an "Updated" stamp.
_STAMP_TOKEN = re.compile(
    rf"{_STAMP_WORD}:?|{_MONTH}|{_WEEKDAY}|\d{{1,4}}(?:st|nd|rd|th)?,?"
    rf"|\d{{1,2}}:\d\d(?::\d\d)?|[ap]\.?m\.?|{_ZONE}|at|on|of|[|/,\u00b7\u2022\-\u2013\u2014:]|\d{{4}}-\d\d-\d\d(?:T[\d:]+Z?)?",
    re.I,
)
_UPDATED = re.compile(r"\b(?:Updated|Modified)\b", re.I)
_HAS_DATE = re.compile(
    rf"\d{{1,2}}:\d\d|{_MONTH}\s*\d|\d{{4}}-\d\d-\d\d|\d{{1,2}}\s+{_MONTH}", re.I
)
# "Washington CNN —", "New York CNN Business —", "LONDON (Reuters) -", "CNN —"
_PLACE_DATELINE = re.compile(
    r"^(?:[A-Z][\w.'\u2019-]*(?:,?\s+[A-Z][\w.'\u2019-]*){0,4}\s+)?"
    r"\(?(?:CNN|AP|Reuters|AFP|UPI)(?:\s+(?:Business|Sport|Sports|Travel|Style|Health))?\)?"
    r"\s*[\u2014\u2013-]+$"
)
_UPDATE_NOTE = re.compile(
    r"^(?:This (?:story|article|post)(?: and (?:its )?headline)? (?:has|have) been updated\b"
    r"|This (?:story|article) was (?:originally|first) published\b"
    r"|Editor[\u2019']?s? note: (?:This (?:story|article)|A version of this)"
    r"|Corrections? (?:&|and) Clarifications?:)",
    re.I,
)
_NAME = r"[A-Z][\w.'\u2019-]*(?:\s+(?:[A-Z][\w.'\u2019-]*|de|van|von|da|del|la|le)){1,4}"
_OUTLET = r"(?:USA TODAY|CNN|The Associated Press|Associated Press|AP|Reuters|AFP)"
_BYLINE = re.compile(
    rf"^(?:By\s+{_NAME}(?:(?:,\s*|\s+and\s+){_NAME})*(?:\s*[,|]\s*[\w .&'\u2019-]{{2,60}})?"
    rf"|{_NAME}(?:(?:,\s*|\s+and\s+){_NAME})*\s*[,|]\s*{_OUTLET}(?:\s+Network)?(?:\s+\w+){{0,3}}"
    rf"|[\u2013\u2014-]{{1,2}}\s*{_NAME}"  # "\u2013 David Jackson", "-- Candy Woodall"
    rf"|[\u2013\u2014-]{{1,2}}\s*(?:The\s+)?Associated Press"
    rf"|(?:Contributing|Contributors?|Reporting|Additional reporting|Written|Edited)"
    rf"(?:\s+by)?:?\s+[^.]{{2,120}}\.?"
    rf"|From USA TODAY Network and wire reports|Special to USA TODAY"
    rf"|(?:The\s+)?Associated Press|AP|USA TODAY|CNN|Reuters"
    rf"|(?:Reach|Contact|Email|Follow)\s+{_NAME}\s+(?:at|on)\s+\S+.*"
    rf"|{_NAME} (?:is|covers) (?:an? |the )?[\w ,&-]{{0,60}}"
    rf"(?:reporter|correspondent|writer|editor|columnist|contributor)\b.*)$"
)
_AGENCY = (
    r"Getty Images|AP|AFP|Reuters|EPA(?:-EFE)?|Shutterstock|Bloomberg"
    r"|USA TODAY(?: Sports| Network)?|Imagn(?: Images)?|Pool|Handout|Courtesy[\w ]*"
)
_CREDIT = re.compile(
    r"^(?:\(?(?:Photo|Image|Credit|Photograph|Illustration)s?(?:\s+by|\s+credit:?|:)"
    r"\s+[^.]{2,80}\)?"
    rf"|[\w.'\u2019 -]{{2,60}}(?:/(?:[\w.'\u2019 -]{{1,40}}))*/(?:{_AGENCY})"
    r"(?:\s+via\s+Getty Images)?"
    rf"|AP Photo(?:/[\w.'\u2019 -]+)?|(?:{_AGENCY})(?: via Getty Images)?"
    rf"|(?:Hide|Show|Expand|Close) (?:caption|photo|image|gallery)\b.*)$",
    re.I,
)
_CAPTION_END = re.compile(
    rf"(?:\(Photo:?[^)]{{2,80}}\)|\s(?:\S+/)+(?:{_AGENCY})(?: via Getty Images)?"
    r"|\bAP Photo/[\w .'-]+)$"
)
_CAPTION_CREDIT = re.compile(  # "… on Tuesday. Tom Fell/Lakeshore Today"
    r"[.!?]\s+[A-Z][\w.'\u2019-]*(?:\s+[A-Z][\w.'\u2019-]*){0,3}(?:/[A-Z][\w.&'\u2019 -]{1,40})+$"
)
_BARE_NAME = re.compile(r"[A-Z][\w.'\u2019-]+(?:\s+[A-Z][\w.'\u2019-]+){1,3}")
_CAPTION_START = re.compile(
    r"^(?:Photos?|Gallery|Caption|Pictured|Video|Watch|Slideshow)\s*:", re.I
)
_SUMMARY_HEADING = re.compile(
    r"^(?:AI[- ]assisted summary\b.*|(?:AI summary|Summary|Key points|Quick read|The gist):?)$",
    re.I,
)
_BULLET = re.compile(r"^[*\u2022\u00b7\u25aa\u2023-]\s")
_PROMO = re.compile(  # a call to action, not a word that news prose uses too
    r"\bsign(?:\s+|-)?up\b(?! for (?:the )?(?:draft|military|army|service|class))"
    r"|(?:^|[.:!?]\s*)Subscribe\b|\bsubscribe (?:to (?:our|the|us)|now|today|here)\b"
    r"|\b(?:receive|get|our|free)\b[^.]{0,40}\bnewsletter\b|\bnewsletter (?:provides|is free)"
    r"|\binbox\b|\bad-free\b|\bshare (?:this|on)\b|\bfollow us\b|\bdownload (?:the|our) app"
    r"|\bthis ad\b|\bsupport (?:local )?journalism|\bsupporting our journalism"
    r"|\bconsider a subscription|\bsubscriber-only|\b(?:click|tap) here\b",
    re.I,
)
_PROMO_START = re.compile(
    r"^(?:Follow every game:|Video Ad Feedback|Read more:|More:|Related:|Also read:"
    r"|Watch:|Listen:|Share(?: this| on| via|$)"
    r"|Advertisement$|Skip Ad|Just for subscribers:|Recommended:|Don[\u2019']t miss:)",
    re.I,
)
# USA Today's inline link to a related story: "Tax refunds:Americans could see …"
_RELATED_LINK = re.compile(r"^[^\n]{3,90}?[^\s\d]:(?=[\"'\u201c\u2018A-Z])")
_MAX_LINK_WORDS = 30
_RULE = re.compile(r"^[\s_\-\u2013\u2014=*~\u2022.\u00b7]+$")
_LINE = re.compile(r"[^\n]+")
_MAX_PROMO_WORDS = 45
_MAX_BYLINE_WORDS = 16
_MAX_SUMMARY_LINES = 4
_MAX_SUMMARY_WORDS = 60


@dataclass(frozen=True)
class Furniture:
    """A line that isn't prose: its place in the text and its kind (one of KINDS)."""

    start: int
    end: int
    kind: str


def line_kind(line: str) -> str | None:
    """The kind of furniture a line is (stripped of surrounding blanks), or None for prose."""
    text = line.strip()
    if not text:
        return None
    words = len(text.split())
    if _RULE.fullmatch(text):
        return "rule"
    if _is_stamp(text):
        return "updated" if _UPDATED.search(text) else "dateline"
    if _UPDATE_NOTE.match(text):
        return "updated"
    if _PLACE_DATELINE.match(text):
        return "dateline"
    if words <= _MAX_LINK_WORDS and _RELATED_LINK.match(text):
        return "promo"
    if 5 < words <= 60 and (_CAPTION_END.search(text) or _CAPTION_CREDIT.search(text)):
        return "caption"  # a caption that ends with its photo's credit
    if words <= _MAX_BYLINE_WORDS and _CREDIT.match(text):
        return "credit"
    if words <= 2 * _MAX_BYLINE_WORDS and _BYLINE.match(text):
        return "byline"
    if _CAPTION_START.match(text) or (_CAPTION_END.search(text) and words <= 60):
        return "caption"
    if words <= _MAX_PROMO_WORDS and (_PROMO_START.match(text) or _PROMO.search(text)):
        return "promo"
    return None


def _is_stamp(text: str) -> bool:
    """Whether a line is nothing but dates, times and words like Updated or Published."""
    if len(text) > 90 or not _HAS_DATE.search(text):
        return False
    rest = _STAMP_TOKEN.sub(" ", text)
    return not rest.strip()


def recognise(text: str, source: str | None = None) -> list[Furniture]:
    """Every furniture line of an article's text, in order. A line that is only the
    article's `source` (its outlet) is a byline, and so is a bare name just above it
    ("Jane Roe" over "USA TODAY")."""
    return list(_recognised(text, (source or "").strip().casefold()))


@lru_cache(maxsize=32)
def _recognised(text: str, outlet: str) -> tuple[Furniture, ...]:
    found: list[Furniture] = []
    summary_left, bullets = 0, False  # lines still read as an "AI-assisted summary" block
    before: tuple[int, str] | None = None  # the line before, when it was no furniture
    for match in _LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if not stripped:
            continue
        start = match.start() + len(line) - len(line.lstrip())
        kind = line_kind(stripped)
        if kind is None and outlet and stripped.casefold() == outlet:
            kind = "byline"
        if kind == "byline" and before and _BARE_NAME.fullmatch(before[1]):
            found.append(Furniture(before[0], before[0] + len(before[1]), "byline"))
        if kind is None and _SUMMARY_HEADING.match(stripped):
            kind, summary_left, bullets = "summary", _MAX_SUMMARY_LINES, False
        elif kind is None and summary_left:
            bulleted = bool(_BULLET.match(stripped))
            if summary_left == _MAX_SUMMARY_LINES:
                bullets = bulleted  # a bulleted block ends at its first unbulleted line
            if bulleted == bullets and len(stripped.split()) <= _MAX_SUMMARY_WORDS:
                kind, summary_left = "summary", summary_left - 1
            else:
                summary_left = 0
        elif kind is not None:
            summary_left = 0
        if kind:
            found.append(Furniture(start, start + len(stripped), kind))
        before = None if kind else (start, stripped)
    return tuple(found)


def encode(spans: list[Furniture]) -> str:
    """Spans as the one string a chunk's metadata holds: 'start-end:kind;…'."""
    return ";".join(f"{s.start}-{s.end}:{s.kind}" for s in spans)


def decode(record: str) -> list[Furniture]:
    """The spans `encode` wrote."""
    spans = []
    for item in filter(None, record.split(";")):
        place, kind = item.split(":")
        start, end = place.split("-")
        spans.append(Furniture(int(start), int(end), kind))
    return spans


def within(spans: list[Furniture], start: int, end: int) -> list[Furniture]:
    """The spans that overlap text[start:end]."""
    return [s for s in spans if s.start < end and s.end > start]


def spans_in(chunk_text: str, meta: Mapping[str, Any]) -> list[Furniture]:
    """The furniture of a stored chunk, in article offsets: as ingest recorded it, or
    recognised now in the chunk's text for a chunk stored before that was recorded."""
    record = meta.get("furniture")
    if isinstance(record, str):
        return decode(record)
    base = int(meta.get("start", 0))
    found = recognise(chunk_text, meta.get("source"))
    return [Furniture(s.start + base, s.end + base, s.kind) for s in found]


def is_furniture(spans: list[Furniture], start: int, end: int) -> bool:
    """Whether text[start:end] (a sentence, in the same offsets) lies in furniture."""
    return any(s.start < end and s.end > start for s in spans)
