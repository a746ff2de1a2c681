"""The Sources pager: one cited snippet per page, with prev/next buttons.

Callback data names the answer by its key in the chat (random, see `ChatData.remember`;
never a turn number, which two replicas could both give out), never by content, so it
stays a few bytes long (Telegram allows 64):

    src:<key>            the "Sources" button under an answer: opens page 1 as a new message
    srcp:<key>:<page>    a prev/next button: shows that page in the pager's message
"""

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answer import Citation
from bot.telegram.formatting import clip, escape, link, visible_length

CALLBACK_PATTERN = r"^srcp?:\d+(:\d+)?$"
_DATA = re.compile(r"^src(?:p)?:(\d+)(?::(\d+))?$")
_SNIPPET_LIMIT = 3500  # leaves room for the title and details within 4096
_SHORTEST_QUOTE = 80  # a further quote is left off rather than clipped shorter than this


@dataclass(frozen=True)
class SourcesRequest:
    """What a pressed button asks for: a page of one answer's sources."""

    key: int
    page: int
    opens_pager: bool


def sources_button(key: int) -> InlineKeyboardMarkup:
    """The "Sources" button placed under an answer."""
    return InlineKeyboardMarkup([[InlineKeyboardButton("Sources", callback_data=f"src:{key}")]])


def parse_callback(data: str) -> SourcesRequest | None:
    """The request encoded in callback data, or None when it isn't ours."""
    match = _DATA.match(data)
    if not match:
        return None
    page = int(match.group(2) or 1)
    return SourcesRequest(int(match.group(1)), page, opens_pager=match.group(2) is None)


def page_markup(key: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """Prev/next buttons for a page, or None when there is only one page."""
    if pages <= 1:
        return None
    row = []
    if page > 1:
        row.append(InlineKeyboardButton("« Prev", callback_data=f"srcp:{key}:{page - 1}"))
    if page < pages:
        row.append(InlineKeyboardButton("Next »", callback_data=f"srcp:{key}:{page + 1}"))
    return InlineKeyboardMarkup([row])


def page_text(citations: list[Citation], page: int) -> tuple[str, str]:
    """One source as (HTML, plain text): title, details and each quoted sentence."""
    c = citations[page - 1]
    details = " · ".join(x for x in (c.source, (c.date or "")[:10]) if x)
    heading = f"Source {page} of {len(citations)}"
    title = clip(c.title or c.article_id, 300)
    html_lines = [f"<b>{heading}</b>", f"<b>[{c.n}] {link(c.url, escape(title))}</b>"]
    plain_lines = [heading, f"[{c.n}] {title}"]
    if details:
        html_lines.append(f"<i>{escape(details)}</i>")
        plain_lines.append(details)
    room = _SNIPPET_LIMIT  # shared by the quotes; a page shows those that fit
    for i, quote in enumerate(c.quoted()):
        if i and room < _SHORTEST_QUOTE:
            break
        snippet = clip(quote.snippet, room)
        room -= visible_length(snippet) + 3
        html_lines.append(f"<blockquote>{escape(snippet)}</blockquote>")
        plain_lines.append(f"“{snippet}”")
    if c.url:
        plain_lines.append(c.url)
    return "\n".join(html_lines), "\n".join(plain_lines)
