"""The LLM answerer: numbered sources in, a cited answer out, checked for grounding.

chunks ─► <source> blocks that fit the token budget ─► prompt | chat model ─► text
     ─► each sentence checked as it is written (sentence_gate.py), shown once it passes
     ─► grounding check of the whole answer ─► Answer(mode="llm")
                      └─► unsupported, or the model failed: extractive answer,
                          labelled mode="extractive-fallback" with a notice
                          (a sentence that fails while streaming stops the model)
"""

import html
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser

from bot.answer import Answer, Citation, abstention, cite
from bot.answerers.extractive import ExtractiveAnswerer
from bot.llm import grounding
from bot.llm.markers import MARKER
from bot.llm.models import ChatModel
from bot.llm.prompts import load_prompt
from bot.llm.sentence_gate import SentenceGate
from index.furniture import is_furniture, spans_in
from index.sentences import sentence_spans
from index.terms import terms

log = logging.getLogger(__name__)

_PROMPT_MARGIN = 32  # tokens of slack for chat-template wrapping


class GenerativeAnswerer:
    """Writes answers with a chat model, and never lets an unsupported one through."""

    def __init__(
        self,
        chat: ChatModel | None,
        extractive: ExtractiveAnswerer,
        *,
        context_tokens: int,
        max_tokens: int,
        min_support: float,
        attribute_uncited: bool = False,
        prompts_dir: Any = None,
        unavailable: str | None = None,
    ) -> None:
        self.chat = chat
        self.extractive = extractive
        self.context_tokens = context_tokens
        self.max_tokens = max_tokens
        self.min_support = min_support
        self.attribute_uncited = attribute_uncited
        self.unavailable = unavailable
        self.prompt = load_prompt("answer", prompts_dir)
        # At most chat.parallel requests at once, answers and condensing together: one for
        # llama.cpp (not safe across threads), llm.max_concurrency for an HTTP endpoint.
        self.lock = threading.BoundedSemaphore(chat.parallel if chat else 1)
        self._prompt_tokens: int | None = None

    def answer(self, question: str, chunks: Sequence[Document]) -> Answer:
        """The final answer, without streaming."""
        *_, final = self.stream(question, chunks)
        assert isinstance(final, Answer)
        return final

    def stream(self, question: str, chunks: Sequence[Document]) -> Iterator[str | Answer]:
        """Yield the answer's sentences as each passes the check, then the checked `Answer`.

        A sentence that fails stops the model: the extractive answer follows at once.
        The extractive answer is made only when it is shown: embedding its candidate
        sentences is most of an LLM answer's CPU time in the bot, and a good model's
        answer never needs it (benchmarks/telegram_load.py).
        """
        best = max((float(c.metadata.get("score", 0.0)) for c in chunks), default=-1.0)
        if best < self.extractive.min_score:  # nothing relevant: don't ask the model
            yield self.extractive.answer(question, chunks)
            return
        if self.chat is None:
            fallback = self.extractive.answer(question, chunks)
            yield _fallback(fallback, f"LLM unavailable: {self.unavailable}")
            return
        blocks, context = self.context(question, chunks)
        sources, articles = _numbered(blocks)
        gate = SentenceGate(
            sources, question=question, articles=articles, min_support=self.min_support
        )
        chain = self.prompt | self.chat.model | StrOutputParser()
        try:
            with self.lock:
                pieces = chain.stream({"context": context, "question": question})
                try:
                    for piece in pieces:
                        if released := gate.feed(piece):
                            yield released
                        if gate.rejected is not None:
                            break  # stop the model: this answer won't be shown
                finally:
                    pieces.close()
        except Exception as exc:  # any provider error: show the extractive answer
            log.warning("LLM request failed (%s): %s", self.chat.where, exc, exc_info=True)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            fallback = self.extractive.answer(question, chunks)
            yield _fallback(fallback, f"LLM failed ({self.chat.where}): {reason[:200]}")
            return
        yield self._checked(question, gate.text, blocks, chunks)

    def _checked(
        self, question: str, text: str, blocks: list[Document], chunks: Sequence[Document]
    ) -> Answer:
        sources, articles = _numbered(blocks)
        checked = grounding.check(
            text, sources, self.min_support, self.attribute_uncited, question, articles
        )
        if checked.grounding.declined:  # the model's own "I don't know": no fallback
            return abstention(blocks[0].metadata, mode="llm", grounding=checked.grounding)
        if not checked.grounding.supported:
            fallback = self.extractive.answer(question, chunks)
            if fallback.abstained:
                return fallback.model_copy(update={"grounding": checked.grounding})
            return _fallback(
                fallback,
                f"the model's answer was not supported by its sources "
                f"({checked.grounding.reason.split(':')[0]}); showing the extractive answer",
                checked.grounding,
            )
        renumber = {old: new for new, old in enumerate(checked.grounding.cited, 1)}
        answer_text = _renumber(checked.text, renumber)
        citations = [
            _citation(renumber[old], blocks[old - 1], answer_text)
            for old in checked.grounding.cited
        ]
        return Answer(
            text=answer_text, citations=citations, mode="llm", grounding=checked.grounding
        )

    def context(self, question: str, chunks: Sequence[Document]) -> tuple[list[Document], str]:
        """The chunks that fit the budget, and the numbered <source> blocks the model reads."""
        blocks = self._fit(question, chunks)
        return blocks, "\n\n".join(_block(n, doc) for n, doc in enumerate(blocks, 1))

    def _fit(self, question: str, chunks: Sequence[Document]) -> list[Document]:
        """The leading chunks whose blocks fit the context budget, measured in tokens."""
        count = self.chat.count_tokens if self.chat else len
        budget = self.context_tokens
        if self.chat and self.chat.window:
            if self._prompt_tokens is None:
                empty = self.prompt.format(context="", question="")
                self._prompt_tokens = count(empty)
            room = self.chat.window - self._prompt_tokens - count(question)
            budget = min(budget, room - self.max_tokens - _PROMPT_MARGIN)
        chosen: list[Document] = []
        for n, doc in enumerate(chunks, 1):
            cost = count(_block(n, doc)) + 2
            if cost > budget:
                break
            chosen.append(doc)
            budget -= cost
        return chosen or list(chunks[:1])


def _numbered(blocks: Sequence[Document]) -> tuple[dict[int, str], dict[int, str]]:
    """The blocks' texts by source number, and the article each belongs to."""
    sources = {n: doc.page_content for n, doc in enumerate(blocks, 1)}
    articles = {n: str(doc.metadata.get("article_id", n)) for n, doc in enumerate(blocks, 1)}
    return sources, articles


def _block(n: int, doc: Document) -> str:
    meta = doc.metadata
    title = html.escape(str(meta.get("title", "")), quote=True)
    date = str(meta.get("date") or "")[:10]
    return f'<source id="{n}" title="{title}" date="{date}">\n{doc.page_content}\n</source>'


def _fallback(answer: Answer, notice: str, check: grounding.Grounding | None = None) -> Answer:
    mode = "extractive" if answer.abstained else "extractive-fallback"
    return answer.model_copy(update={"mode": mode, "notice": notice, "grounding": check})


def _renumber(text: str, mapping: dict[int, int]) -> str:
    def swap(match: Any) -> str:
        numbers = [str(mapping[int(p)]) for p in match.group(1).split(",") if int(p) in mapping]
        return f"[{', '.join(numbers)}]"

    return MARKER.sub(swap, text)


def _citation(n: int, doc: Document, answer_text: str) -> Citation:
    """Quote the sentence of the cited chunk that best matches the answer, never one on a
    line that isn't prose (a dateline, byline, caption: index/furniture.py)."""
    meta = doc.metadata
    base = int(meta["start"])
    furniture = spans_in(doc.page_content, meta)
    wanted = set(terms(answer_text))
    spans = sentence_spans(doc.page_content) or [(0, len(doc.page_content))]
    prose = [(a, b) for a, b in spans if not is_furniture(furniture, base + a, base + b)]
    start, end = max(
        prose or spans, key=lambda s: len(wanted & set(terms(doc.page_content[s[0] : s[1]])))
    )
    return cite(n, meta, doc.page_content[start:end], base + start, base + end)
