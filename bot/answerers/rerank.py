"""Reranking: the answer model reads the retrieved chunks and keeps the ones that answer.

The retriever's pool (`retrieval.rerank_pool` chunks, fused cosine + BM25 + date) is
cut into candidate sentences; a shortlist of them (each chunk's best two by the
question's words, and every title) is scored by the answer model, and each chunk ranks
by the chance of its best sentence plus RETRIEVAL_WEIGHT times its retrieval score.
Chunks beyond the pool keep their retrieval order after it. Each chunk's metadata gains
`answer_chance`. The answerer then reads the same sentences, whose scores the model
keeps for it.
"""

from collections.abc import Sequence

import numpy as np
from langchain_core.documents import Document

from bot.answerers.candidates import candidates, shortlist
from bot.answerers.reader import Reader

RETRIEVAL_WEIGHT = 0.3
PER_CHUNK = 2  # sentences each chunk of the pool gets read for


class Reranker:
    """Orders retrieved chunks by how likely they hold the answer."""

    def __init__(self, reader: Reader, pool: int) -> None:
        self.reader = reader
        self.pool = pool

    def rerank(self, question: str, chunks: Sequence[Document], k: int) -> list[Document]:
        """The best k chunks, the first `pool` of `chunks` reordered by the answer model."""
        head, tail = list(chunks[: self.pool]), list(chunks[self.pool :])
        if not head:
            return []
        found = candidates(head, titles=True)
        listed = shortlist(question, found, PER_CHUNK, PER_CHUNK * len(head))
        chances = self.reader.chances(question, [c.text for c in listed])
        best = np.zeros(len(head))
        for c, p in zip(listed, chances, strict=True):
            best[c.chunk_rank] = max(best[c.chunk_rank], float(p))
        retrieval = [
            float(c.metadata.get("rank_score", c.metadata.get("score", 0.0))) for c in head
        ]
        order = sorted(range(len(head)), key=lambda i: -(best[i] + RETRIEVAL_WEIGHT * retrieval[i]))
        ranked = [
            Document(
                id=head[i].id,
                page_content=head[i].page_content,
                metadata={**head[i].metadata, "answer_chance": round(float(best[i]), 4)},
            )
            for i in order
        ]
        return (ranked + tail)[:k]
