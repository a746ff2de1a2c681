"""Sentence spans: character offsets of each sentence in a text.

Lines are treated as paragraph breaks (news text puts headings and paragraphs on
lines of their own); sentencex splits sentences inside each line. Its breaks are then
mended where news style fools it, and split where the extractor glued pieces together:

- a break after an honorific or title ("Rep.", "then-St."), a lone initial ("R-N." in
  "R-N.Y.", "non-U." in "non-U.S."), or "No."/a month before a number is undone;
- a break before a lowercase word or a comma ("E!' || s red-carpet") is undone;
- a heading glued to its sentence ("DOCTOR UPDATES:Here's what …") is split after the
  colon, and a photo credit glued to the next sentence ("Jack Guez/AFP/Getty Images
  "We're …") is split after the credit.
"""

import calendar
import re

from sentencex import segment

Span = tuple[int, int]
_LINE = re.compile(r"[^\n]+")

# Words that end in a period but almost never end a sentence.
_TITLES = frozenset(
    "mr mrs ms mx dr prof rep reps sen sens gov govs lt gen col maj capt cmdr adm sgt cpl "
    "pvt rev fr msgr hon pres supt det insp atty st ste mt ft jr sr messrs vs v".split()
)
# Ones that don't end a sentence when a number follows ("No. 2", "Dec. 1", "Fig. 3").
_BEFORE_NUMBER = frozenset("no nos vol pp fig art sec ch ed sept".split()) | {
    m.lower()
    for m in calendar.month_abbr[1:]
    if m != "May"  # "May" is no abbreviation
}
# Patterns the extractive answerer shares: a lowercase start that is no brand name
# ("s red-carpet", not "iPhone"), and the agencies of photo credits ("…/AFP/Getty Images").
LOWERCASE_START = r"[a-z](?![a-z]*[A-Z])"
PHOTO_AGENCIES = r"AFP|AP|Reuters|EPA|Shutterstock|Bloomberg"
_LAST_WORD = re.compile(r"\.([A-Za-z]+)")  # the word before a final period, read backwards
_CONTINUES = re.compile(LOWERCASE_START)
_GLUED_HEADING = re.compile(r"[A-Z][\w\u2019'&-]*:(?=[\"\u201c]?[A-Z])")  # "UPDATES:Here's"
_GLUED_CREDIT = re.compile(
    rf"\S+/(?:Getty Images|{PHOTO_AGENCIES})(?: via Getty Images)?" r"(?=\s+[\"\u201cA-Z])"
)
_HEADING_SIGN = re.compile(r":[\"\u201c]?[A-Z]")
_CREDIT_SIGN = re.compile(rf"/(?:Getty|{PHOTO_AGENCIES})")
_MAX_HEADING_WORDS = 12


def sentence_spans(text: str, language: str = "en") -> list[Span]:
    """Offsets (start, end) of every sentence, without surrounding whitespace."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        pos = line.start()
        found: list[Span] = []
        for sentence in segment(language, line.group()):
            start = text.find(sentence, pos)
            if start < 0:  # the segmenter changed the text; fall back to the whole line
                found = [_trim(text, line.start(), line.end())]
                break
            pos = start + len(sentence)
            kept = sentence.strip()
            if kept:
                start += len(sentence) - len(sentence.lstrip())
                found.append((start, start + len(kept)))
        if len(found) > 1:
            found = _mended(text, found)
        if _HEADING_SIGN.search(text, *line.span()) or _CREDIT_SIGN.search(text, *line.span()):
            found = [piece for span in found for piece in _unglued(text, span)]
        spans.extend(found)
    return spans


def _mended(text: str, spans: list[Span]) -> list[Span]:
    """Spans of one line with the breaks that fall inside a sentence undone."""
    mended = [spans[0]]
    for span in spans[1:]:
        if _inside_sentence(text, mended[-1][1], span[0]):
            mended[-1] = (mended[-1][0], span[1])
        else:
            mended.append(span)
    return mended


def _inside_sentence(text: str, end: int, start: int) -> bool:
    """Whether a break between text[:end] and text[start:] cuts a sentence in two."""
    first = text[start]
    if first.islower():
        return _CONTINUES.match(text, start, start + 16) is not None
    if first in ",;:)]":
        return True
    if text[end - 1] != ".":
        return False
    backwards = text[end - 1 : max(0, end - 25) : -1] if end > 24 else text[end - 1 :: -1]
    word = _LAST_WORD.match(backwards)
    if word is None:
        return False
    name = word.group(1)[::-1]
    if len(name) == 1 and name.isupper():  # a lone initial: "J.", "R-N.", "non-U."
        return word.end() == len(backwards) or backwards[word.end()] not in "._'\u20190123456789"
    name = name.lower()
    return name in _TITLES or (name in _BEFORE_NUMBER and first.isdigit())


def _unglued(text: str, span: Span) -> list[Span]:
    """A span split after a glued heading ("UPDATES:Here's") or a glued photo credit."""
    start, end = span
    piece = text[start:end]
    heading = _GLUED_HEADING.search(piece, 0, 160)
    if heading and len(piece[: heading.start()].split()) < _MAX_HEADING_WORDS:
        cut = start + heading.end()
        return [(start, cut), *_unglued(text, _trim(text, cut, end))]
    credit = _GLUED_CREDIT.search(piece)
    if credit:
        cut = start + credit.end()
        return [_trim(text, start, cut), *_unglued(text, _trim(text, cut, end))]
    return [span]


def _trim(text: str, start: int, end: int) -> Span:
    """Shrink a span past leading and trailing whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
