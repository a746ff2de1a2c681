"""Telegram HTML: escaping, citation links, and splitting long text at 4096 visible characters.

Long text is split as plain text first and each part is formatted afterwards. Tags are
only ever added around whole `[n]` markers, so no split can fall inside a tag or an
HTML entity, and a part's visible length is the plain part's length.
"""

import html
import re
from collections.abc import Iterable

from bot.answer import Answer, Citation

MAX_MESSAGE_LENGTH = 4096  # visible characters, counted in UTF-16 code units like Telegram

_MARKER = re.compile(r"\[(\d+)\]")
# Where a part may end, best first: a paragraph, a line, a sentence (with the citation
# markers that follow it, never before a marker), any space.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),
    re.compile(r"\n\s*"),
    re.compile(r"[.!?…][\"'\u201d\u2019)\]]*(?:[ \t]*\[\d+\])*\s+(?!\[\d)"),
    re.compile(r"\s+(?!\[\d)"),
)


def escape(text: str) -> str:
    """Text made safe for HTML parse mode: `<`, `>` and `&` escaped."""
    return html.escape(text, quote=False)


def link(url: str | None, text: str) -> str:
    """`text` (already HTML) as a link to url when it is an http(s) URL, else unchanged."""
    if not url or not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return text
    return f'<a href="{html.escape(url, quote=True)}">{text}</a>'


def answer_html(text: str, citations: Iterable[Citation]) -> str:
    """Answer text as HTML, each [n] marker a link to its article's URL where there is one."""
    urls = {c.n: c.url for c in citations}

    def marker(match: re.Match[str]) -> str:
        return link(urls.get(int(match.group(1))), match.group(0))

    return _MARKER.sub(marker, escape(text))


def answer_parts(answer: Answer, limit: int = MAX_MESSAGE_LENGTH) -> list[tuple[str, str]]:
    """The answer as messages of at most `limit` visible characters: (html, plain text)."""
    return [(answer_html(part, answer.citations), part) for part in split_text(answer.text, limit)]


def visible_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Plain text in parts of at most `limit` UTF-16 units, cut on the best boundary."""
    parts = []
    rest = text.strip()
    while visible_length(rest) > limit:
        cut = _best_cut(rest, _prefix_fitting(rest, limit))
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def clip(text: str, limit: int) -> str:
    """Text shortened to at most `limit` UTF-16 units at a space, with "…" when cut."""
    if visible_length(text) <= limit:
        return text
    window = text[: _prefix_fitting(text, limit - 1)]
    space = window.rfind(" ")
    return (window[:space] if space > len(window) // 2 else window).rstrip() + "…"


def _prefix_fitting(text: str, limit: int) -> int:
    """The most characters of text whose UTF-16 length is at most limit (at least 1)."""
    units = 0
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return max(i, 1)
    return len(text)


def _best_cut(text: str, size: int) -> int:
    """Where to end a part within text[:size]: the last boundary of the best kind past halfway.

    Boundaries are matched on a little more than the window, so that a marker just past
    it still counts; a cut inside trailing whitespace is moved back into the window.
    """
    fallback = 0
    for pattern in _BOUNDARIES:
        ends = [
            min(m.end(), size)
            for m in pattern.finditer(text, 0, size + 64)
            if m.start() > 0 and m.start() + len(m.group().rstrip()) <= size
        ]
        if ends and ends[-1] >= size // 2:
            return ends[-1]
        fallback = max([fallback, *ends])
    return fallback or size
