"""The answering service every front end uses: one LCEL chain, built once from settings.

    {question, standalone, scope, k, said} ─► retrieve ─► answer ─► text…, Answer

- *retrieve*: the hybrid retriever's best k chunks (`find`);
- *answer*: the extractive answerer, or the LLM with its grounding check, on the chunks
  less the sentences already `said` ("and who else?"), streaming the model's text and
  ending with the final `Answer`.

"when was that?" needs no retrieval: it is answered from the last answer's citations.

Asking, chatting, streaming (CLI and Telegram) and eval all run this chain; `retrieve`
runs its first step.
"""

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda
from langchain_core.runnables import RunnablePassthrough as Passthrough

from bot.answer import Answer, dated
from bot.answerers.extractive import ExtractiveAnswerer
from bot.config import Settings
from bot.conversation import Conversation, Plan
from bot.follow_ups import from_title, nothing_more, unsaid, when_it_was
from index.embedding.models import load_query_embeddings
from index.errors import EmptyIndexError
from index.search.live import LiveIndex
from index.search.retriever import FusionWeights, TimeScope, make_retriever
from index.store import recorded
from index.store.catalog import IndexStats, newest_first, stats_of
from index.store.chunks import ChunkStore, open_existing
from index.store.schema import StoredArticle

if TYPE_CHECKING:
    from collections.abc import Sequence

    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from bot.llm.answerer import GenerativeAnswerer
    from bot.llm.condense import Condenser

log = logging.getLogger(__name__)
_WHO = re.compile(r"\b(?:who|whom|anyone|anybody|someone|somebody)\b", re.I)


def build_find(
    retriever: "BaseRetriever", guard: Callable[[], AbstractContextManager[Any]] = nullcontext
) -> Runnable:
    """retrieve: {standalone, scope, k} to the same with the k best `chunks`.

    Retrieval runs inside `guard()`, which turns "store unreachable" into a
    StoreUnavailableError (the answerer's own network errors are left alone).
    """

    def retrieve(x: dict[str, Any]) -> list["Document"]:
        with guard():
            return retriever.invoke(x["standalone"], scope=x["scope"], k=x["k"])

    return Passthrough.assign(chunks=RunnableLambda(retrieve))


def build_chain(find: Runnable, answerer: "Answerer") -> Runnable:
    """find | answer: {question, standalone, scope, k, said?, topic?} to the answer's stream.

    `said` is cut out of the chunks; `topic` is what the topic's answers quoted, which an
    answer from a title may not merely repeat.
    """

    def answer(inputs: Iterator[dict[str, Any]]) -> Iterator[str | Answer]:
        x: Any = None
        for part in inputs:  # Passthrough.assign streams its keys in parts
            x = part if x is None else x + part
        chunks = unsaid(x["chunks"], x.get("said", ()))
        for item in answerer.stream(x["standalone"], chunks):
            if isinstance(item, Answer):  # "What song did she sing?": maybe only a title says
                item = from_title(x["question"], item, chunks, x.get("topic", ())) or item
            yield item

    return find | RunnableGenerator(answer)


class Answerer(Protocol):
    """Either answerer: extractive, or generative with its grounding check."""

    def stream(self, question: str, chunks: "Sequence[Document]") -> Iterator[str | Answer]: ...


class AnsweringService:
    """Answers questions over the index; shared by the CLI and Telegram."""

    def __init__(self, settings: Settings, store: ChunkStore, mode: str | None = None) -> None:
        self.settings = settings
        self.mode = mode or settings.answer.mode
        self._has_articles = False
        embeddings = load_query_embeddings(settings.embedding)
        recorded.check_model(
            store, settings.embedding.model, lambda: len(embeddings.embed_query("probe"))
        )
        r = settings.retrieval
        weights = FusionWeights(
            r.lexical_weight, r.date_weight, r.date_scale_days, r.duplicate_similarity
        )
        self.live = LiveIndex(
            store, embeddings, settings.store.refresh_s, with_lexical=bool(r.lexical_weight)
        )
        self.retriever = make_retriever(self.live, embeddings, r.k, r.fetch_k, weights)
        self.extractive = ExtractiveAnswerer(
            r.min_score, settings.answer.min_evidence, settings.answer.max_sentences, embeddings
        )
        self.generative: GenerativeAnswerer | None = None
        self.condenser: Condenser | None = None
        if self.mode == "llm":
            self.generative, self.condenser = _generative(settings, self.extractive)
        self.answerer: Answerer = self.generative or self.extractive
        self.find = build_find(self.retriever, store.reach)
        self.chain = build_chain(self.find, self.answerer)

    def reopen_index(self) -> None:
        """Make articles ingested since the service opened answerable, without a restart.

        Called after this process ingested (feeds, /add): the client, vector store and
        BM25 are reopened together, and the cached article count is read again.
        """
        self._has_articles = False
        self.live.refresh(force=True)

    @property
    def store(self) -> ChunkStore:
        """The store of the current snapshot."""
        return self.live.snapshot.store

    @classmethod
    def open(cls, settings: Settings, mode: str | None = None) -> "AnsweringService":
        """Open the existing index in the configured data directory."""
        return cls(settings, open_existing(settings.data_dir, settings.store), mode)

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
        final = None
        for item in self.stream(question, conversation, scope):
            final = item
        assert isinstance(final, Answer)  # the chain always ends with the Answer
        return final

    def stream(
        self,
        question: str,
        conversation: Conversation | None = None,
        scope: TimeScope | None = None,
    ) -> Iterator[str | Answer]:
        """Like `ask`, but yield the LLM's text as it arrives, then the final `Answer`.

        In extractive mode only the `Answer` is yielded.
        """
        self._require_articles()
        plan = conversation.plan(question) if conversation else Plan("new", question)
        standalone = self._standalone(question, conversation, plan)
        scope = scope or TimeScope(as_of=date.today())
        final: Answer | None = None
        if plan.kind == "when":
            final = dated(when_it_was(plan.previous), scope.as_of)
            yield final
        else:
            inputs = {"question": question, "standalone": standalone, "scope": scope}
            said = plan.said if plan.kind == "more" else frozenset()
            inputs |= {"k": self.settings.retrieval.k, "said": said, "topic": plan.said}
            for item in self.chain.stream(inputs):
                if isinstance(item, Answer):
                    if plan.kind == "more":
                        item = nothing_more(item, said, _asks_who(question), *plan.previous)
                    final = item = dated(item, scope.as_of)
                yield item
        if conversation is not None and final is not None:
            conversation.add(question, standalone, final)

    def _standalone(self, question: str, conversation: Conversation | None, plan: Plan) -> str:
        if conversation is None or plan.kind != "follow-up" or self.condenser is None:
            return plan.standalone
        return self.condenser.standalone(question, conversation)

    def retrieve(
        self, question: str, *, k: int, scope: TimeScope | None = None
    ) -> list["Document"]:
        """The best k chunks for a question, as the answerer sees them (as of today by default)."""
        self._require_articles()
        scope = scope or TimeScope(as_of=date.today())
        found = self.find.invoke(
            {"question": question, "standalone": question, "scope": scope, "k": k}
        )
        chunks: list[Document] = found["chunks"]
        return chunks

    def _require_articles(self) -> None:
        if self._has_articles:  # once seen, don't pay for a count on every question
            return
        self._has_articles = self.store.count() > 0
        if not self._has_articles:
            raise EmptyIndexError(
                f"the index in {self.settings.data_dir} is empty; "
                "add articles with: newsbot ingest PATH"
            )

    def articles(self) -> list[StoredArticle]:
        """Every indexed article, newest first."""
        return newest_first(self.store)

    def stats(self) -> IndexStats:
        """Counts, date range, model and location of the index."""
        return stats_of(self.store, self.settings.embedding.model)


def _asks_who(question: str) -> bool:
    """Whether "and who else?" asks for people: then only a new name is something new."""
    return bool(_WHO.search(question))


def _generative(
    settings: Settings, extractive: ExtractiveAnswerer
) -> tuple["GenerativeAnswerer", "Condenser | None"]:
    """The LLM answerer; when the model can't be built, one that always falls back."""
    from bot.llm.answerer import GenerativeAnswerer  # only in LLM mode: its prompts and parsers
    from bot.llm.condense import Condenser
    from bot.llm.models import ChatModel, LLMUnavailable, approximate_token_counter, make_chat_model

    llm = settings.llm
    chat: ChatModel | None = None
    unavailable: str | None = None
    try:
        chat = make_chat_model(llm, approximate_token_counter())
    except LLMUnavailable as exc:
        log.warning("LLM unavailable: %s", exc)
        unavailable = str(exc)
    generative = GenerativeAnswerer(
        chat,
        extractive,
        context_tokens=llm.context_tokens,
        max_tokens=llm.max_tokens,
        min_support=llm.min_support,
        attribute_uncited=llm.attribute_uncited,
        prompts_dir=llm.prompts_dir,
        unavailable=unavailable,
    )
    condenser = Condenser(chat.model, llm.prompts_dir, generative.lock) if chat else None
    return generative, condenser
