"""Candidate answers: the quotable sentences of retrieved chunks, placed in their articles.

Only sentences can be answers: headings, photo credits, bylines, promo lines, questions
and fragments (no closing punctuation, or a lowercase start) stay searchable but are
never quoted. An article's title is a candidate too ("Everything Everywhere All at Once
wins best picture" answers "Which film won best picture?"); it is quoted as the title.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document

from index.sentences import LOWERCASE_START, PHOTO_AGENCIES, sentence_spans
from index.terms import terms

_ENDS_SENTENCE = re.compile(r"[.!\u2026][\"'\u201d\u2019)\]]*$")
_NOT_AN_ANSWER = re.compile(
    rf"^(?:{LOWERCASE_START}"  # a fragment: "s red-carpet …" (but "iPhone …" is fine)
    r"|[A-Z]\.[,;]"  # the tail of a split initial: "Y., nominated …"
    r"|[A-Z][A-Z0-9 '\u2019&-]+:)"  # a promo or section label: "LATEST VISUAL EXPLANATIONS: …"
    rf"|Getty Images|/(?:{PHOTO_AGENCIES})\b|\bAP Photo\b"  # photo credits
)
_HEADLINE_WORDS = 4  # a title shorter than this names no event ("Live updates")
_CHUNK_WEIGHT = 0.5
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Candidate:
    """A sentence (or an article's title) from a retrieved chunk.

    `start`/`end` are offsets into the article's text; a title has `is_title` and the
    offsets of its chunk's first sentence, which is what a citation of it then quotes
    beside it. `before` is the sentence before it in its chunk (article offsets and
    text), which a "He said …" leans on.
    """

    text: str
    start: int
    end: int
    meta: dict[str, Any]
    chunk_score: float
    chunk_rank: int
    before: tuple[int, int, str] | None = None
    is_title: bool = False
    score: float = field(default=0.0, compare=False)


def candidates(chunks: Sequence[Document], titles: bool = False) -> list[Candidate]:
    """Every quotable sentence of every chunk once, in retrieval order; with `titles`,
    each article's title once as well (before its first sentence)."""
    seen: set[tuple[str, int]] = set()
    titled: set[str] = set()
    found: list[Candidate] = []
    for rank, chunk in enumerate(chunks):
        meta = chunk.metadata
        base = int(meta["start"])
        score = float(meta.get("score", 0.0))
        if titles and meta["article_id"] not in titled:
            titled.add(meta["article_id"])
            title = (meta.get("title") or "").strip()
            if len(title.split()) >= _HEADLINE_WORDS and title != meta["article_id"]:
                found.append(Candidate(title, base, base, meta, score, rank, is_title=True))
        before: tuple[int, int, str] | None = None
        for start, end in sentence_spans(chunk.page_content):
            text = chunk.page_content[start:end]
            key = (meta["article_id"], base + start)
            previous, before = before, (base + start, base + end, text)
            if key in seen or not quotable(text):
                continue
            seen.add(key)
            found.append(Candidate(text, base + start, base + end, meta, score, rank, previous))
    return found


def quotable(sentence: str) -> bool:
    """Whether a sentence can be an answer: not a heading, credit, byline, promo or fragment."""
    return bool(_ENDS_SENTENCE.search(sentence)) and not _NOT_AN_ANSWER.search(sentence)


def shortlist(question: str, found: list[Candidate], per_chunk: int, total: int) -> list[Candidate]:
    """The candidates worth reading with the answer model, in `found`'s order.

    Each chunk's `per_chunk` best and every title, then the best others up to `total`;
    "best" is the weighted share of the question's words a sentence holds (rare words
    weigh more) plus half its chunk's score. Cheap, so the model reads few sentences.
    """
    words = [set(terms(c.text)) for c in found]
    idf = _term_weights(words)
    asked = set(terms(question))
    key = [
        _overlap(asked, w, idf) + _CHUNK_WEIGHT * c.chunk_score
        for c, w in zip(found, words, strict=True)
    ]
    order = sorted(range(len(found)), key=lambda i: -key[i])
    kept: set[int] = {i for i, c in enumerate(found) if c.is_title}
    taken: Counter[int] = Counter()
    for i in order:
        if taken[found[i].chunk_rank] < per_chunk and not found[i].is_title:
            taken[found[i].chunk_rank] += 1
            kept.add(i)
    for i in order:
        if len(kept) >= total:
            break
        kept.add(i)
    return [found[i] for i in sorted(kept)]


def normalised(sentence: str) -> str:
    """A sentence reduced to its words, for spotting one sentence in two outlets."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", sentence).casefold()))


def _term_weights(documents: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each term over a small set of documents."""
    df = Counter(t for d in documents for t in d)
    n = len(documents)
    return {t: math.log(1 + (n + 1) / (c + 0.5)) for t, c in df.items()}


def _overlap(question: set[str], sentence: set[str], idf: dict[str, float]) -> float:
    """Weighted share of the question's terms that the sentence contains (0..1)."""
    if not question:
        return 0.0
    top = max(idf.values(), default=1.0)
    total = sum(idf.get(t, top) for t in question)
    return sum(idf.get(t, top) for t in question & sentence) / total
