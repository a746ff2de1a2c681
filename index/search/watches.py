"""Watches: which newly ingested articles are about a standing topic.

A watch ("Damar Hamlin", "central bank interest rates") is scored against every chunk
of every new article with the retriever's own fusion: cosine(watch, chunk) plus
`lexical_weight` times the chunk's BM25 for the watch over the watch's best BM25
anywhere in the index. An article scores the mean of its best two chunks (one passing
mention doesn't make an article about a topic), and it is about the watch when that
reaches the threshold. Both the weight (0.5, above retrieval's 0.2: a watch's words are
names and topics, which BM25 weighs well) and the threshold were chosen on 29
hand-labelled watches (benchmarks/watches.py). BM25 over the whole index takes
microseconds per watch, and watch vectors are embedded once, when the watch is set, so
matching thousands of watches against a refresh costs a matrix product.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from index.search.stories import Lead, same, unit
from index.sentences import sentence_spans
from index.store.bm25 import LexicalIndex
from index.store.chunks import ChunkStore
from index.store.schema import StoredArticle, stored_article
from index.terms import terms

_IDS_PER_GET = 200  # article ids per Chroma `$in` filter
BEST_OF = 2  # an article scores the mean of its best chunks


@dataclass(frozen=True)
class Topic:
    """A watch as the index sees it: its words, their vector, and the caller's key for it."""

    key: int
    words: str
    vector: np.ndarray


@dataclass(frozen=True)
class Match:
    """An article about a topic: its score and the sentence that best matches the topic."""

    key: int
    article: StoredArticle
    score: float
    sentence: str


@dataclass
class Arrival:
    """A new article's chunks as stored: texts, vectors, and their rows in BM25."""

    article: StoredArticle
    texts: list[str] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # -1 where BM25 doesn't know the chunk

    @property
    def lead(self) -> Lead:
        """The article's first chunk (title, date and lead), as stories are grouped by."""
        return Lead(self.article, self.texts[0], self.vectors[0])


def read_arrivals(
    store: ChunkStore, article_ids: Sequence[str], lexical: LexicalIndex | None
) -> list[Arrival]:
    """The complete articles among `article_ids` with their chunks, in chunk order."""
    rows = {chunk_id: row for row, chunk_id in enumerate(lexical.ids)} if lexical else {}
    found: dict[str, list[tuple[int, str, np.ndarray, int, dict]]] = {}
    ids = list(dict.fromkeys(article_ids))
    for first in range(0, len(ids), _IDS_PER_GET):
        where = {"article_id": {"$in": ids[first : first + _IDS_PER_GET]}}
        for page in store.pages(["embeddings", "documents", "metadatas"], where=where):
            for chunk_id, text, vector, meta in zip(
                page["ids"], page["documents"], page["embeddings"], page["metadatas"], strict=True
            ):
                found.setdefault(str(meta["article_id"]), []).append(
                    (int(meta["chunk_index"]), text, unit(vector), rows.get(chunk_id, -1), meta)
                )
    arrivals = []
    for article_id in ids:
        chunks = sorted(found.get(article_id, []), key=lambda c: c[0])
        if not chunks or chunks[0][0] != 0:  # chunk 0 is written last: incomplete
            continue
        arrival = Arrival(stored_article(chunks[0][4]))
        for _, text, vector, row, _ in chunks:
            arrival.texts.append(text)
            arrival.vectors.append(vector)
            arrival.rows.append(row)
        arrivals.append(arrival)
    return arrivals


def match(
    arrivals: Sequence[Arrival],
    topics: Sequence[Topic],
    lexical: LexicalIndex | None,
    min_score: float,
    lexical_weight: float,
) -> list[Match]:
    """Every (topic, article) pair scoring at least `min_score`, best first."""
    if not arrivals or not topics:
        return []
    scores = article_scores(arrivals, topics, lexical, lexical_weight)
    matches = []
    for t, a in zip(*np.nonzero(scores.values >= min_score), strict=True):
        text = arrivals[a].texts[scores.best_chunk[t, a]]
        sentence = best_sentence(topics[t], text, arrivals[a].article.title)
        matches.append(
            Match(topics[t].key, arrivals[a].article, float(scores.values[t, a]), sentence)
        )
    return sorted(matches, key=lambda m: -m.score)


@dataclass(frozen=True)
class Scores:
    """Topic-by-article scores, and which chunk of each article gave each score."""

    values: np.ndarray  # (topics, articles)
    best_chunk: np.ndarray  # (topics, articles): the chunk of the article giving the value


def article_scores(
    arrivals: Sequence[Arrival],
    topics: Sequence[Topic],
    lexical: LexicalIndex | None,
    lexical_weight: float,
) -> Scores:
    """Each topic's fused score for each article: the mean of its best `BEST_OF` chunks."""
    vectors = np.stack([v for a in arrivals for v in a.vectors])
    owner = np.repeat(np.arange(len(arrivals)), [len(a.vectors) for a in arrivals])
    rows = np.array([r for a in arrivals for r in a.rows])
    queries = np.stack([t.vector / (np.linalg.norm(t.vector) or 1.0) for t in topics])
    fused = queries.astype(np.float32) @ vectors.T  # (topics, chunks)
    if lexical is not None and lexical.ids and lexical_weight:
        known = rows >= 0
        for t, topic in enumerate(topics):
            query_terms = [w for w in terms(topic.words) if w in lexical.bm25.vocab_dict]
            if not query_terms:
                continue
            bm25 = lexical.bm25.get_scores(query_terms)
            top = float(bm25.max())
            if top > 0:
                fused[t, known] += lexical_weight * bm25[rows[known]] / top
    values = np.empty((len(topics), len(arrivals)), dtype=np.float32)
    best_chunk = np.empty((len(topics), len(arrivals)), dtype=np.int64)
    starts = np.searchsorted(owner, np.arange(len(arrivals)))
    for a, arrival in enumerate(arrivals):
        block = fused[:, starts[a] : starts[a] + len(arrival.vectors)]
        best_chunk[:, a] = block.argmax(axis=1)
        values[:, a] = -np.sort(-block, axis=1)[:, :BEST_OF].mean(axis=1)
    return Scores(values, best_chunk)


def best_sentence(topic: Topic, text: str, title: str = "") -> str:
    """The chunk's sentence naming most of the topic's words, the earliest of equals.

    Chosen by words, not embeddings: embedding the sentences of every match cost twice
    a refresh's ingest time for 1,000 chats (benchmarks/watch_cost.py), and the chunk
    already is the article's closest to the topic. A heading that repeats the title
    is no sentence to quote.
    """
    spans = sentence_spans(text)
    sentences = [s for s in (text[a:b] for a, b in spans) if not same(s, title)] or [text]
    wanted = set(terms(topic.words))
    shares = [len(wanted & set(terms(s))) for s in sentences]
    return sentences[shares.index(max(shares))]
