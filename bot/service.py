"""The answering service every front end uses: one LCEL chain, built once from settings.

{standalone question, time scope} ─► hybrid retriever ─► extractive answerer ─► Answer
"""

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from bot.answer import Answer
from bot.config import Settings
from bot.conversation import Conversation
from bot.extractive import ExtractiveAnswerer
from index.embeddings import load_query_embeddings, resolve_model
from index.errors import EmptyIndexError
from index.lexical import open_lexical
from index.retriever import FusionWeights, TimeScope, make_retriever
from index.store import ChunkStore, StoredArticle, open_existing

if TYPE_CHECKING:
    from langchain_core.documents import Document
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
    """retriever | answerer, as one LCEL runnable from {standalone, scope} to Answer."""
    retrieve = RunnableLambda(lambda x: retriever.invoke(x["standalone"], scope=x["scope"]))
    answer = RunnableLambda(lambda x: answerer.answer(x["standalone"], x["chunks"]))
    return RunnablePassthrough.assign(chunks=retrieve) | answer


class AnsweringService:
    """Answers questions over the index; shared by the CLI and Telegram."""

    def __init__(self, settings: Settings, store: ChunkStore) -> None:
        self.settings = settings
        self.store = store
        embeddings = load_query_embeddings(settings.embedding)
        r = settings.retrieval
        weights = FusionWeights(
            r.lexical_weight, r.date_weight, r.date_scale_days, r.duplicate_similarity
        )
        lexical = open_lexical(store) if r.lexical_weight else None
        self.retriever = make_retriever(store, embeddings, lexical, r.k, r.fetch_k, weights)
        self.answerer = answerer = ExtractiveAnswerer(
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

    def ask(
        self,
        question: str,
        conversation: Conversation | None = None,
        scope: TimeScope | None = None,
    ) -> Answer:
        """Answer one question, using and extending the conversation when given.

        Without a scope, the question is asked as of today: nearer articles rank higher.
        """
        self._require_articles()
        standalone = conversation.standalone(question) if conversation else question
        scope = scope or TimeScope(as_of=date.today())
        answer: Answer = self.chain.invoke(
            {"question": question, "standalone": standalone, "scope": scope}
        )
        if conversation is not None:
            conversation.add(question, standalone, answer)
        return answer

    def retrieve(
        self, question: str, *, k: int, scope: TimeScope | None = None
    ) -> list["Document"]:
        """The best k chunks for a question, as the answerer would see them."""
        self._require_articles()
        return self.retriever.invoke(question, scope=scope or TimeScope(), k=k)

    def answer(self, question: str, chunks: list["Document"]) -> Answer:
        """Answer from chunks already retrieved (as `ask` does after retrieving)."""
        return self.answerer.answer(question, chunks)

    def _require_articles(self) -> None:
        if self.store.count() == 0:
            raise EmptyIndexError(
                f"the index in {self.settings.data_dir} is empty; "
                "add articles with: newsbot ingest PATH"
            )

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
