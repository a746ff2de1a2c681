"""The answering service every front end uses: one LCEL chain, built once from settings.

{"question", "standalone"} ─► retriever (standalone) ─► extractive answerer ─► Answer
"""

import logging
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from bot.answer import Answer
from bot.config import Settings
from bot.conversation import Conversation
from bot.extractive import ExtractiveAnswerer
from index.embeddings import load_query_embeddings, resolve_model
from index.errors import EmptyIndexError
from index.retriever import make_retriever
from index.store import ChunkStore, StoredArticle, open_existing

if TYPE_CHECKING:
    from langchain_core.retrievers import BaseRetriever

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStats:
    """What the index holds."""

    articles: int
    chunks: int
    first_date: str | None
    last_date: str | None
    model: str
    location: str


def build_chain(retriever: "BaseRetriever", answerer: ExtractiveAnswerer) -> Runnable:
    """retriever | answerer, as one LCEL runnable from {question, standalone} to Answer."""
    return RunnablePassthrough.assign(chunks=itemgetter("standalone") | retriever) | RunnableLambda(
        lambda x: answerer.answer(x["standalone"], x["chunks"])
    )


class AnsweringService:
    """Answers questions over the index; shared by the CLI and Telegram."""

    def __init__(self, settings: Settings, store: ChunkStore) -> None:
        self.settings = settings
        self.store = store
        embeddings = load_query_embeddings(settings.embedding)
        self.retriever = make_retriever(store, embeddings, settings.retrieval.k)
        answerer = ExtractiveAnswerer(
            settings.retrieval.min_score,
            settings.answer.min_evidence,
            settings.answer.max_sentences,
        )
        self.chain = build_chain(self.retriever, answerer)

    @classmethod
    def open(cls, settings: Settings) -> "AnsweringService":
        """Open the existing index in the configured data directory."""
        return cls(settings, open_existing(settings.data_dir))

    def new_conversation(self) -> Conversation:
        """A conversation that remembers the configured number of turns."""
        return Conversation(self.settings.answer.history_turns)

    def ask(self, question: str, conversation: Conversation | None = None) -> Answer:
        """Answer one question, using and extending the conversation when given."""
        if self.store.count() == 0:
            raise EmptyIndexError(
                f"the index in {self.settings.data_dir} is empty; "
                "add articles with: newsbot ingest PATH"
            )
        standalone = conversation.standalone(question) if conversation else question
        answer: Answer = self.chain.invoke({"question": question, "standalone": standalone})
        if conversation is not None:
            conversation.add(question, standalone, answer)
        return answer

    def articles(self) -> list[StoredArticle]:
        """Every indexed article, newest first."""
        return sorted(self.store.articles().values(), key=lambda a: a.date or "", reverse=True)

    def stats(self) -> IndexStats:
        """Counts, date range, model and location of the index."""
        articles = self.store.articles()
        dates = sorted(a.date for a in articles.values() if a.date)
        return IndexStats(
            articles=len(articles),
            chunks=self.store.count(),
            first_date=dates[0] if dates else None,
            last_date=dates[-1] if dates else None,
            model=resolve_model(self.settings.embedding.model),
            location=str(self.store.path),
        )
