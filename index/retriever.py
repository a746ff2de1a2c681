"""The retriever over the chunk store: the question's nearest chunks, with their scores."""

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from index.store import ChunkStore


class ChunkRetriever(BaseRetriever):
    """Dense retrieval from Chroma; each document's metadata gains `score` (cosine, 0..1)."""

    store: Any  # langchain_chroma.Chroma; typed loosely to keep pydantic off its internals
    embeddings: Embeddings
    k: int = 6

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        vector = self.embeddings.embed_query(query)
        hits = self.store.similarity_search_by_vector_with_relevance_scores(vector, k=self.k)
        # The collection uses cosine distance, so similarity is 1 - distance.
        return [
            Document(page_content=doc.page_content, metadata={**doc.metadata, "score": 1 - dist})
            for doc, dist in hits
        ]


def make_retriever(store: ChunkStore, embeddings: Embeddings, k: int) -> ChunkRetriever:
    """A retriever reading the given store with the given question embedder."""
    return ChunkRetriever(store=store.vectorstore(embeddings), embeddings=embeddings, k=k)
