"""The extractive answerer: answer with the retrieved sentences that best match the question.

No language model is involved. Each candidate sentence from the retrieved chunks is
scored by the weighted share of the question's words it contains (rare words weigh
more) plus half the cosine similarity of its chunk to the question. The best sentences
become the answer, each marked [n] to a citation that quotes it exactly: one number per
article, quoting each of its sentences, in the article's order.

Only sentences can be answers: headings, headlines, photo credits, bylines, promo lines,
questions and fragments (no closing punctuation, or a lowercase start) stay searchable
but are never quoted. A sentence two outlets carry (a wire story) is quoted once, even
when their punctuation differs (an em dash in one, an en dash in the other).

It abstains instead of guessing when the best chunk's similarity is below `min_score`,
or when the best sentence's score (its evidence) is below `min_evidence`: a sentence
that shares none of the question's rarer words needs a very close chunk to count.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document

from bot.answer import NOT_FOUND, Answer, Citation, Quote, cite_quotes
from index.sentences import LOWERCASE_START, PHOTO_AGENCIES, sentence_spans
from index.terms import terms

_CHUNK_WEIGHT = 0.5
_RUNNER_UP = 0.8  # a second sentence must score at least this share of the best
_ENDS_SENTENCE = re.compile(r"[.!\u2026][\"'\u201d\u2019)\]]*$")
_NOT_AN_ANSWER = re.compile(
    rf"^(?:{LOWERCASE_START}"  # a fragment: "s red-carpet …" (but "iPhone …" is fine)
    r"|[A-Z]\.[,;]"  # the tail of a split initial: "Y., nominated …"
    r"|[A-Z][A-Z0-9 '\u2019&-]+:)"  # a promo or section label: "LATEST VISUAL EXPLANATIONS: …"
    rf"|Getty Images|/(?:{PHOTO_AGENCIES})\b|\bAP Photo\b"  # photo credits
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Candidate:
    """A sentence from a retrieved chunk, placed in its article."""

    text: str
    start: int
    end: int
    meta: dict[str, Any]
    chunk_score: float
    score: float = 0.0


class ExtractiveAnswerer:
    """Picks answer sentences from retrieved chunks."""

    def __init__(self, min_score: float, min_evidence: float, max_sentences: int) -> None:
        self.min_score = min_score
        self.min_evidence = min_evidence
        self.max_sentences = max_sentences

    def answer(self, question: str, chunks: Sequence[Document]) -> Answer:
        """Answer from the chunks, or abstain when the evidence is too weak."""
        if not chunks or max(_score(c) for c in chunks) < self.min_score:
            return Answer(text=NOT_FOUND, abstained=True)
        ranked = self._rank(question, [c for c in _candidates(chunks) if quotable(c.text)])
        if not ranked or ranked[0].score < self.min_evidence:
            return Answer(text=NOT_FOUND, abstained=True)
        chosen = self._chosen(ranked)
        articles = list(dict.fromkeys(c.meta["article_id"] for c in chosen))
        quoted = sorted(chosen, key=lambda c: (articles.index(c.meta["article_id"]), c.start))
        citations = [
            _citation(n, [c for c in quoted if c.meta["article_id"] == article])
            for n, article in enumerate(articles, 1)
        ]
        text = " ".join(f"{c.text} [{articles.index(c.meta['article_id']) + 1}]" for c in quoted)
        return Answer(text=text, citations=citations)

    def _chosen(self, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentences, each once however its punctuation differs between outlets."""
        chosen: list[Candidate] = []
        seen: set[str] = set()
        for c in ranked:
            if len(chosen) == self.max_sentences or c.score < _RUNNER_UP * ranked[0].score:
                break
            key = normalised(c.text)
            if key not in seen:
                seen.add(key)
                chosen.append(c)
        return chosen

    def _rank(self, question: str, candidates: list[Candidate]) -> list[Candidate]:
        """Candidates scored and sorted, best first."""
        q_terms = set(terms(question))
        c_terms = [set(terms(c.text)) for c in candidates]
        idf = term_weights(c_terms)
        scored = [
            Candidate(
                c.text,
                c.start,
                c.end,
                c.meta,
                c.chunk_score,
                overlap(q_terms, found, idf) + _CHUNK_WEIGHT * c.chunk_score,
            )
            for c, found in zip(candidates, c_terms, strict=True)
        ]
        return sorted(scored, key=lambda c: -c.score)


def _score(chunk: Document) -> float:
    return float(chunk.metadata.get("score", 0.0))


def _candidates(chunks: Sequence[Document]) -> list[Candidate]:
    """Every sentence of every chunk once, with offsets into its article."""
    seen: set[tuple[str, int]] = set()
    found: list[Candidate] = []
    for chunk in chunks:
        meta = chunk.metadata
        base = int(meta["start"])
        for start, end in sentence_spans(chunk.page_content):
            key = (meta["article_id"], base + start)
            if key in seen:
                continue
            seen.add(key)
            found.append(
                Candidate(
                    chunk.page_content[start:end], base + start, base + end, meta, _score(chunk)
                )
            )
    return found


def _citation(n: int, quoted: list[Candidate]) -> Citation:
    """Citation [n] of one article, quoting each of its chosen sentences."""
    quotes = [Quote(snippet=c.text, start=c.start, end=c.end) for c in quoted]
    return cite_quotes(n, quoted[0].meta, quotes)


def quotable(sentence: str) -> bool:
    """Whether a sentence can be an answer: not a heading, credit, byline, promo or fragment."""
    return bool(_ENDS_SENTENCE.search(sentence)) and not _NOT_AN_ANSWER.search(sentence)


def normalised(sentence: str) -> str:
    """A sentence reduced to its words, for spotting one sentence in two outlets."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", sentence).casefold()))


def term_weights(documents: Iterable[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each term over a small set of documents."""
    docs = list(documents)
    df = Counter(t for d in docs for t in d)
    n = len(docs)
    return {t: math.log(1 + (n + 1) / (c + 0.5)) for t, c in df.items()}


def overlap(question: set[str], sentence: set[str], idf: dict[str, float]) -> float:
    """Weighted share of the question's terms that the sentence contains (0..1)."""
    if not question:
        return 0.0
    top = max(idf.values(), default=1.0)
    total = sum(idf.get(t, top) for t in question)
    return sum(idf.get(t, top) for t in question & sentence) / total
