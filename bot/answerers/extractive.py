"""The extractive answerer: answer with the retrieved sentences the answer model believes.

No language model writes anything. The quotable sentences of the (reranked) chunks,
and each article's title, are shortlisted by the question's words and read by the
answer model (`bot.answerers.reader`), which gives each the calibrated chance that it
holds the answer. The likeliest comes first; another joins it when it is at least
RUNNER_UP as likely and above `min_evidence`. Each is marked [n] to a citation of its
article, which quotes every chosen sentence in the article's order. A sentence whose
subject is only a pronoun ("He won 216 votes.") is quoted after the sentence before it,
which says who is meant. A title that answers ("Everything Everywhere wins best
picture") is quoted as the headline.

It abstains, naming the closest article, when the best chunk's similarity is below
`min_score` or when even the likeliest sentence's chance is below `min_evidence`. A
sentence two outlets carry (a wire story) is quoted once, however its punctuation differs.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from langchain_core.documents import Document

from bot.answer import Answer, Citation, Quote, abstention, cite_quotes
from bot.answerers.candidates import Candidate, candidates, normalised, shortlist
from bot.answerers.reader import Reader

RUNNER_UP = 0.5  # a second sentence must be at least this share as likely as the best
PER_CHUNK = 3  # sentences of each chunk the model reads
READ = 24  # sentences read per question at most
_PRONOUN_SUBJECT = re.compile(r"(?:He|She|They|His|Her|Their|It|Its)\b")
_NAMED = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z.'\u2019-]+)+")  # "Kevin McCarthy"


class ExtractiveAnswerer:
    """Picks answer sentences from retrieved chunks with the answer model."""

    def __init__(
        self, reader: Reader, min_score: float, min_evidence: float, max_sentences: int
    ) -> None:
        self.reader = reader
        self.min_score = min_score
        self.min_evidence = min_evidence
        self.max_sentences = max_sentences

    def answer(self, question: str, chunks: Sequence[Document]) -> Answer:
        """Answer from the chunks, or abstain when no sentence is likely to answer."""
        if not chunks or max(_score(c) for c in chunks) < self.min_score:
            return abstention()
        ranked = self.ranked(question, chunks)
        if not ranked or ranked[0].score < self.min_evidence:
            return abstention(chunks[0].metadata)
        chosen = self._chosen(ranked)
        articles = list(dict.fromkeys(c.meta["article_id"] for c in chosen))
        citations = [
            _citation(n, [c for c in chosen if c.meta["article_id"] == a])
            for n, a in enumerate(articles, 1)
        ]
        text = " ".join(f"{_shown(c)} [{articles.index(c.meta['article_id']) + 1}]" for c in chosen)
        return Answer(text=text, citations=citations, confidence=round(ranked[0].score, 3))

    def stream(self, question: str, chunks: Sequence[Document]) -> Iterator[Answer]:
        """The answer, as the one item of a stream (the LLM answerer streams text first)."""
        yield self.answer(question, chunks)

    def ranked(self, question: str, chunks: Sequence[Document]) -> list[Candidate]:
        """The shortlisted candidates with the model's chances as scores, likeliest first."""
        found = candidates(chunks, titles=True)
        listed = shortlist(question, found, PER_CHUNK, READ)
        chances = self.reader.chances(question, [c.text for c in listed])
        scored = [replace(c, score=float(p)) for c, p in zip(listed, chances, strict=True)]
        return sorted(scored, key=lambda c: -c.score)

    def _chosen(self, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentence, and the runners-up likely enough, each said once."""
        best = ranked[0].score
        chosen: list[Candidate] = []
        seen: set[str] = set()
        for c in ranked:
            if len(chosen) == self.max_sentences:
                break
            if c.score < max(RUNNER_UP * best, self.min_evidence):
                break
            key = normalised(c.text)
            if key not in seen:
                seen.add(key)
                chosen.append(c)
        return chosen


def _shown(candidate: Candidate) -> str:
    """The candidate as the answer says it: a headline as such, a bare "He …" after the
    sentence that names him."""
    if candidate.is_title:
        return f"Headline: \u201c{candidate.text}\u201d"
    named = antecedent(candidate)
    return f"{named[2]} {candidate.text}" if named else candidate.text


def antecedent(candidate: Candidate) -> tuple[int, int, str] | None:
    """The sentence before a pronoun-led candidate, when it names someone."""
    if candidate.before is None or not _PRONOUN_SUBJECT.match(candidate.text):
        return None
    return candidate.before if _NAMED.search(candidate.before[2]) else None


def _citation(n: int, quoted: list[Candidate]) -> Citation:
    """Citation [n] of one article: the headline first if quoted, then its sentences in
    the article's order (with the sentence naming who a quoted "He" is)."""
    quotes: list[Quote] = []
    for c in sorted(quoted, key=lambda c: (not c.is_title, c.start)):
        if c.is_title:
            quotes.append(Quote(snippet=c.text, start=0, end=len(c.text), part="title"))
            continue
        if named := antecedent(c):
            quotes.append(Quote(snippet=named[2], start=named[0], end=named[1]))
        quotes.append(Quote(snippet=c.text, start=c.start, end=c.end))
    return cite_quotes(n, quoted[0].meta, quotes)


def _score(chunk: Document) -> float:
    return float(chunk.metadata.get("score", 0.0))
