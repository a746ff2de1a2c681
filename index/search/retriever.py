"""Hybrid, time-aware retrieval over the chunk store.

    question ─► embed ─► Chroma top fetch_k (cosine) ─┐
            └─► BM25 top fetch_k ─────────────────────┴─► union ─► fused score ─► drop
                                                             near-duplicates ─► top k

fused = cosine + lexical_weight * BM25 / max BM25
        + date_weight * exp(-days apart / date_scale_days)

The date term applies only when a `TimeScope.as_of` date is given, and only to dated
articles. "Days apart" is counted from the period the question names, read as of that
date ("last week", "in March 2023": `index.search.periods`), or else from the date itself.
`since`/`until` filter both searches. Near-duplicates (cosine of chunk
embeddings at or above `duplicate_similarity`, from different articles, e.g. the same
wire story in two papers) keep only the better-ranked copy.
"""

import logging
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from index.search.live import LiveIndex
from index.search.periods import Period, mentioned_period

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimeScope:
    """When a question is asked from, and the date range it may draw on."""

    as_of: date | None = None
    since: date | None = None
    until: date | None = None

    def where(self) -> dict[str, Any] | None:
        """The Chroma metadata filter for the date range."""
        clauses: list[dict[str, Any]] = []
        if self.since:
            clauses.append({"day": {"$gte": self.since.toordinal()}})
        if self.until:
            clauses.append({"day": {"$lte": self.until.toordinal()}})
        if len(clauses) > 1:
            return {"$and": clauses}
        return clauses[0] if clauses else None


@dataclass(frozen=True)
class FusionWeights:
    """How the signals combine; see the module docstring."""

    lexical_weight: float = 0.2
    date_weight: float = 0.0
    date_scale_days: float = 14.0
    duplicate_similarity: float = 0.95


class HybridRetriever(BaseRetriever):
    """Chunks for a question, best first; metadata gains `score` (cosine) and `rank_score`.

    Each question reads one snapshot of the index (`index.search.live`): its vector
    store and its BM25 always describe the same chunks.
    """

    index: Any  # LiveIndex
    embeddings: Embeddings
    k: int = 6
    fetch_k: int = 40
    weights: FusionWeights = FusionWeights()

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        scope: TimeScope | None = None,
        k: int | None = None,
    ) -> list[Document]:
        scope = scope or TimeScope()
        k = k or self.k
        fetch = max(self.fetch_k, k)
        snapshot = self.index.current()
        vector = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        dense = snapshot.vectors.similarity_search_by_vector_with_relevance_scores(
            vector.tolist(), k=fetch, filter=scope.where()
        )
        lexical: list[tuple[str, float]] = []
        if snapshot.lexical is not None and self.weights.lexical_weight:
            lexical = snapshot.lexical.search(
                query,
                fetch,
                scope.since.toordinal() if scope.since else None,
                scope.until.toordinal() if scope.until else None,
            )
        ids = list(dict.fromkeys([doc.id for doc, _ in dense] + [i for i, _ in lexical]))
        if not ids:
            return []
        found = _fetch(snapshot.vectors, ids)
        if not found["ids"]:
            return []
        vectors = np.asarray(found["embeddings"], dtype=np.float32)
        cosine = vectors @ vector
        top_bm25 = max((s for _, s in lexical), default=0.0) or 1.0
        bm25 = dict(lexical)
        period = self._period(query, scope.as_of)
        fused = [
            float(cos)
            + self.weights.lexical_weight * bm25.get(chunk_id, 0.0) / top_bm25
            + self._date_bonus(meta, scope.as_of, period)
            for chunk_id, cos, meta in zip(found["ids"], cosine, found["metadatas"], strict=True)
        ]
        order = np.argsort(-np.asarray(fused), kind="stable")
        chosen = self._without_duplicates(order, vectors, found["metadatas"], k)
        return [
            Document(
                id=found["ids"][i],
                page_content=found["documents"][i],
                metadata={
                    **found["metadatas"][i],
                    "score": float(cosine[i]),
                    "rank_score": fused[i],
                },
            )
            for i in chosen
        ]

    def _period(self, query: str, as_of: date | None) -> Period | None:
        if as_of is None or not self.weights.date_weight:
            return None
        period = mentioned_period(query, as_of)
        if period:
            log.debug("read %r as %s to %s", period.text, period.start, period.end)
        return period

    def _date_bonus(self, meta: dict[str, Any], as_of: date | None, period: Period | None) -> float:
        day = meta.get("day")
        if as_of is None or not day or not self.weights.date_weight:
            return 0.0
        published = date.fromordinal(int(day))
        apart = period.days_outside(published) if period else abs((as_of - published).days)
        return self.weights.date_weight * math.exp(-apart / self.weights.date_scale_days)

    def _without_duplicates(
        self, order: np.ndarray, vectors: np.ndarray, metas: list[dict[str, Any]], k: int
    ) -> list[int]:
        """The first k positions in `order`, skipping copies of an already chosen chunk."""
        chosen: list[int] = []
        for i in order:
            if len(chosen) == k:
                break
            copies = [
                j
                for j in chosen
                if metas[j]["article_id"] != metas[i]["article_id"]
                and float(vectors[i] @ vectors[j]) >= self.weights.duplicate_similarity
            ]
            if not copies:
                chosen.append(int(i))
        return chosen


def _fetch(vectors: Any, ids: list[str]) -> dict[str, Any]:
    """Embeddings, texts and metadata of the candidates; one that can't be fetched (gone,
    or not in this snapshot yet) is dropped, never the whole answer."""
    from chromadb.errors import ChromaError

    include = ["embeddings", "documents", "metadatas"]
    try:
        return dict(vectors.get(ids=ids, include=include))
    except ChromaError as exc:
        log.warning("fetching %d candidates failed (%s); fetching them one by one", len(ids), exc)
    found: dict[str, list[Any]] = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    for chunk_id in ids:
        try:
            one = vectors.get(ids=[chunk_id], include=include)
        except ChromaError as exc:
            log.info("dropped candidate %s: %s", chunk_id, exc)
            continue
        for key in found:
            found[key].extend(list(one[key]))
    return found


def make_retriever(
    index: LiveIndex, embeddings: Embeddings, k: int, fetch_k: int, weights: FusionWeights
) -> HybridRetriever:
    """A retriever over the live index's snapshots."""
    return HybridRetriever(
        index=index, embeddings=embeddings, k=k, fetch_k=fetch_k, weights=weights
    )
