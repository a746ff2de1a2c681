"""The extractive answerer: answer with the retrieved sentences that answer the question.

No language model is involved. Every quotable sentence of the retrieved chunks is
pre-ranked by the weighted share of the question's words it contains (rare words weigh
more) plus half its chunk's score; the best PRE_RANKED are embedded with the query
encoder and scored by `evidence.likelihoods` (word share, chunk score, the sentence's
own cosine similarity, whether it supplies what the question asks for and keeps its
names, whether it only restates the question, ...). The best sentence is the answer; a
second joins it when at least RUNNER_UP as likely; the best comes first. Each is marked
[n] to a citation that quotes it exactly: one number per article, quoting each of its
sentences in the article's order.

Only sentences can be answers: headings, headlines, photo credits, bylines, promo lines,
questions and fragments (no closing punctuation, or a lowercase start) stay searchable
but are never quoted; nor is any sentence on a line that ingest recorded as furniture
(a dateline, "Updated" stamp, byline, credit, caption, summary block or promo:
index/furniture.py). A sentence two outlets carry (a wire story) is quoted once, even
when their punctuation differs (an em dash in one, an en dash in the other).

It abstains instead of guessing when the best chunk's similarity is below `min_score`,
or when `evidence.confidence`, the calibrated chance that the answer is right, is below
`min_evidence`. An abstention names the closest article, marked as not an answer.
"""

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from bot.answer import Answer, Citation, Quote, abstention, cite_quotes
from bot.answerers import evidence
from index.furniture import is_furniture, spans_in
from index.mentions import counted, counts, names, speaker, supplies
from index.sentences import LOWERCASE_START, PHOTO_AGENCIES, sentence_spans
from index.terms import terms

_CHUNK_WEIGHT = 0.5
PRE_RANKED = 6  # sentences embedded and scored per question
EMBEDDED_CHARS = 300  # of each, about 64 word pieces: the cost grows with the longest
RUNNER_UP = 0.3  # a second sentence must be at least this share as likely as the best
_ENDS_SENTENCE = re.compile(r"[.!\u2026][\"'\u201d\u2019)\]]*$")
_NOT_AN_ANSWER = re.compile(
    rf"^(?:{LOWERCASE_START}"  # a fragment: "s red-carpet …" (but "iPhone …" is fine)
    r"|[A-Z]\.[,;]"  # the tail of a split initial: "Y., nominated …"
    r"|[A-Z][A-Z0-9 '\u2019&-]+:)"  # a promo or section label: "LATEST VISUAL EXPLANATIONS: …"
    rf"|Getty Images|/(?:{PHOTO_AGENCIES})\b|\bAP Photo\b"  # photo credits
)
_WORD = re.compile(r"\w+")
_DECISIVE = frozenset({"person", "number", "date"})  # "which X" answers may be any word
_REFERS_BACK = re.compile(r"(?:He|She|They|It|His|Her|Their|Its|The|This|That)\b")
_PERSONAL_PRONOUN = re.compile(r"(?:He|She|They|His|Her|Their)\b")


@dataclass(frozen=True)
class Candidate:
    """A sentence from a retrieved chunk, placed in its article."""

    text: str
    start: int
    end: int
    meta: dict[str, Any]
    chunk_score: float
    context: frozenset[str] = frozenset()  # words it is read with: its title, who "he" is
    score: float = 0.0
    named_before: "Quote | None" = None  # the sentence naming who its opening "He" is


def _said(candidate: Candidate) -> str:
    """The candidate as the answer says it: a bare "He …" after the sentence naming him."""
    named = candidate.named_before
    return f"{named.snippet} {candidate.text}" if named else candidate.text


def _unrepeated(chosen: list[Candidate]) -> list[Candidate]:
    """The chosen sentences without those already said as another's "who he is"."""
    said = {(c.meta["article_id"], c.named_before.start) for c in chosen if c.named_before}
    return [c for c in chosen if (c.meta["article_id"], c.start) not in said]


class ExtractiveAnswerer:
    """Picks answer sentences from retrieved chunks."""

    def __init__(
        self,
        min_score: float,
        min_evidence: float,
        max_sentences: int,
        embeddings: Embeddings,
    ) -> None:
        self.min_score = min_score
        self.min_evidence = min_evidence
        self.max_sentences = max_sentences
        self.embeddings = embeddings

    def answer(self, question: str, chunks: Sequence[Document]) -> Answer:
        """Answer from the chunks, or abstain when the answer is unlikely to be right."""
        if not chunks or max(_score(c) for c in chunks) < self.min_score:
            return abstention()
        closest = chunks[0].metadata
        asked = evidence.Question.of(question)
        said = speaker(question)
        if said:  # "What did Lavrov say about Iran?": where he speaks of it
            chunks = [c for c in chunks if asked.names <= _words_of(c)]
            if not chunks:
                return abstention(closest)
        ranked, sure = self._rank(asked, chunks)
        if said:  # ... in a sentence on Iran (or under a title naming it)
            topic = asked.names - said
            ranked = [c for c in ranked if topic <= set(terms(c.text)) | c.context]
        if not ranked or ranked[0].score < evidence.MIN_LIKELIHOOD or sure < self.min_evidence:
            return abstention(closest)
        chosen = _unrepeated(self._chosen(ranked))
        articles = list(dict.fromkeys(c.meta["article_id"] for c in chosen))
        citations = [
            _citation(n, sorted((c for c in chosen if c.meta["article_id"] == a), key=_start))
            for n, a in enumerate(articles, 1)
        ]
        text = " ".join(f"{_said(c)} [{articles.index(c.meta['article_id']) + 1}]" for c in chosen)
        return Answer(text=text, citations=citations, confidence=round(sure, 3))

    def stream(self, question: str, chunks: Sequence[Document]) -> Iterator[Answer]:
        """The answer, as the one item of a stream (the LLM answerer streams text first)."""
        yield self.answer(question, chunks)

    def _chosen(self, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentences, each once however its punctuation differs between outlets."""
        chosen: list[Candidate] = []
        seen: set[str] = set()
        for c in ranked:
            if len(chosen) == self.max_sentences or c.score < RUNNER_UP * ranked[0].score:
                break
            key = normalised(c.text)
            if key not in seen:
                seen.add(key)
                chosen.append(c)
        return chosen

    def _rank(
        self, question: evidence.Question, chunks: Sequence[Document]
    ) -> tuple[list[Candidate], float]:
        """The best candidates by likelihood, best first, and the answer's confidence."""
        weighed = self.weigh(question, chunks)
        if weighed is None:
            return [], 0.0
        chances = evidence.likelihoods(weighed.features)
        sure = evidence.confidence(weighed.confidence_features(chances))
        scored = [replace(c, score=float(p)) for c, p in zip(weighed.top, chances, strict=True)]
        return sorted(scored, key=lambda c: -c.score), sure

    def weigh(self, question: evidence.Question, chunks: Sequence[Document]) -> "Weighed | None":
        """The PRE_RANKED best quotable sentences and their features; None when there are none.

        `benchmarks/calibrate.py` fits the evidence models on exactly these features.
        """
        candidates = _supplying(question, [c for c in _candidates(chunks) if quotable(c.text)])
        if not candidates:
            return None
        found = [set(terms(c.text)) | c.context for c in candidates]
        idf = evidence.term_weights(found)
        overlaps = [evidence.overlap(set(question.terms), f, idf) for f in found]
        order = sorted(
            range(len(candidates)),
            key=lambda i: -(overlaps[i] + _CHUNK_WEIGHT * candidates[i].chunk_score),
        )[: max(PRE_RANKED, self.max_sentences)]
        top = [candidates[i] for i in order]
        vectors = self.embeddings.embed_documents([c.text[:EMBEDDED_CHARS] for c in top])
        features = evidence.sentence_features(
            question,
            [c.text for c in top],
            [overlaps[i] for i in order],
            [c.chunk_score for c in top],
            evidence.cosines(self.embeddings.embed_query(question.text), vectors),
            [c.start == 0 for c in top],
            [c.context for c in top],
        )
        return Weighed(question, top, features, chunks)


@dataclass(frozen=True)
class Weighed:
    """The best candidate sentences of an answer, with one row of features each."""

    question: evidence.Question
    top: list[Candidate]
    features: np.ndarray
    chunks: Sequence[Document]

    def confidence_features(self, chances: np.ndarray) -> np.ndarray:
        """The features of the answer's confidence, given each candidate's likelihood."""
        return evidence.confidence_features(
            self.question,
            [f"{c.metadata.get('title', '')}\n{c.page_content}" for c in self.chunks],
            [_score(c) for c in self.chunks],
            self.features,
            chances,
        )


def _words_of(chunk: Document) -> set[str]:
    return set(terms(f"{chunk.metadata.get('title', '')}\n{chunk.page_content}"))


def _supplying(question: evidence.Question, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates that hold the kind of answer the question asks for, if any do.

    "Who is the new speaker?" is answered by a sentence naming someone the question
    doesn't, never by "The vote on a new speaker took place over four days."; "How many
    votes ..." by a sentence that counts votes when one does.
    """
    if question.expected not in _DECISIVE:
        return candidates
    names = set(question.names)
    supplying = [c for c in candidates if supplies(question.expected, c.text, names)]
    thing = counted(question.text)
    counting = [c for c in supplying if counts(c.text, thing)] if thing else []
    return counting or supplying or candidates


def _start(candidate: Candidate) -> int:
    return candidate.start


def _score(chunk: Document) -> float:
    return float(chunk.metadata.get("score", 0.0))


def _candidates(chunks: Sequence[Document]) -> list[Candidate]:
    """Every sentence of every chunk once, with offsets into its article and its context.

    A sentence is read with its article's title ("The Banshees of Inisherin won best
    comedy" under "Golden Globes: the winners"), and one that opens with a pronoun or
    "The" with the names of the sentence before it ("He received 216 votes"). When a
    personal pronoun is all it says of its subject, it keeps that sentence to quote.
    """
    seen: set[tuple[str, int]] = set()
    found: list[Candidate] = []
    for chunk in chunks:
        meta = chunk.metadata
        base = int(meta["start"])
        title = frozenset(terms(meta.get("title", "")))
        before: Quote | None = None
        furniture = spans_in(chunk.page_content, meta)
        for start, end in sentence_spans(chunk.page_content):
            if is_furniture(furniture, base + start, base + end):
                continue  # never quoted, nor read as who a "He" after it is
            text = chunk.page_content[start:end]
            key = (meta["article_id"], base + start)
            referred = names(before.snippet) if before and _REFERS_BACK.match(text) else set()
            named = (
                before
                if before
                and referred
                and _PERSONAL_PRONOUN.match(text)
                and quotable(before.snippet)
                else None
            )
            before = Quote(snippet=text, start=base + start, end=base + end)
            if key in seen:
                continue
            seen.add(key)
            context = title | referred
            found.append(
                Candidate(
                    text, base + start, base + end, meta, _score(chunk), context, named_before=named
                )
            )
    return found


def _citation(n: int, quoted: list[Candidate]) -> Citation:
    """Citation [n] of one article, quoting each of its chosen sentences (and the one
    naming who a quoted "He" is), once each, in the article's order."""
    quotes = {c.start: Quote(snippet=c.text, start=c.start, end=c.end) for c in quoted}
    for c in quoted:
        if c.named_before is not None:
            quotes.setdefault(c.named_before.start, c.named_before)
    return cite_quotes(n, quoted[0].meta, [quotes[start] for start in sorted(quotes)])


def quotable(sentence: str) -> bool:
    """Whether a sentence can be an answer: not a heading, credit, byline, promo or fragment."""
    return bool(_ENDS_SENTENCE.search(sentence)) and not _NOT_AN_ANSWER.search(sentence)


def normalised(sentence: str) -> str:
    """A sentence reduced to its words, for spotting one sentence in two outlets."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", sentence).casefold()))
