"""Sentence spans: character offsets of each sentence in a text.

Lines are treated as paragraph breaks (news text puts headings and paragraphs on
lines of their own); sentencex splits sentences inside each line.
"""

import re

from sentencex import segment

Span = tuple[int, int]
_LINE = re.compile(r"[^\n]+")


def sentence_spans(text: str, language: str = "en") -> list[Span]:
    """Offsets (start, end) of every sentence, without surrounding whitespace."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        pos = line.start()
        for sentence in segment(language, line.group()):
            start = text.find(sentence, pos)
            if start < 0:  # the segmenter changed the text; fall back to the whole line
                spans.append(_trim(text, line.start(), line.end()))
                break
            pos = start + len(sentence)
            span = _trim(text, start, pos)
            if span[1] > span[0]:
                spans.append(span)
    return spans


def _trim(text: str, start: int, end: int) -> Span:
    """Shrink a span past leading and trailing whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
