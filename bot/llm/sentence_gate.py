"""Streaming only checked text: an answer's sentences released as each passes the check.

The model writes; the gate reads along. A sentence is complete once the next one has
begun (two words of it, so that "$2." of "$2.5 million" is never judged alone), or at
once when it ends on a citation and a full stop ("… bombing [1]."). Each
complete claim that cites a provided source is judged against its own citations, as the
final check judges it (`grounding.judge_sentence`):

- it passes: it is released, in order, and the reader sees it;
- it fails: the gate is *rejected* and releases nothing more; the caller stops the
  model and shows the extractive answer instead, so the rejected sentence is never shown;
- it cites nothing, or only says the sources don't answer: it is held. Released
  sentences stay in order, so later ones wait too, and whatever is held is shown only
  with the final answer, after the whole answer has been checked.

The final check still reads the whole answer: it alone decides what the answer is.
"""

import re
from collections.abc import Mapping

from bot.llm.grounding import cited_numbers, judge_sentence, only_declines
from index.sentences import sentence_spans

_NEXT_WORDS = 2  # words of the next sentence that prove the previous one ended
_CITED_END = re.compile(r"\]\s*[.!?][\"'\u201d\u2019)]*\s*$")  # "… [1]." ends a sentence


class SentenceGate:
    """Reads a streamed answer and releases its sentences once each passes the check."""

    def __init__(
        self,
        sources: Mapping[int, str],
        *,
        question: str,
        articles: Mapping[int, str],
        min_support: float,
    ) -> None:
        self.sources = sources
        self.question = question
        self.articles = articles
        self.min_support = min_support
        self.text = ""
        self.rejected: str | None = None  # the sentence that failed, once one has
        self._judged: list[tuple[str, bool]] = []  # complete sentences, and if each passed
        self._released = 0  # how many of them were released (a prefix)

    def feed(self, piece: str) -> str:
        """Read more of the answer; the newly released text (empty when none)."""
        self.text += piece
        if self.rejected is not None:
            return ""
        spans = sentence_spans(self.text)
        if _CITED_END.search(self.text):
            complete = spans  # "… bombing [1]." has ended: no abbreviation ends so
        elif spans and len(self.text[spans[-1][0] :].split()) < _NEXT_WORDS:
            complete = spans[:-2]
        else:
            complete = spans[:-1]
        for start, end in complete[len(self._judged) :]:
            sentence = self.text[start:end]
            verdict = self._verdict(sentence)
            if verdict is False:
                self.rejected = sentence
                return ""
            self._judged.append((sentence, verdict is True))
        released = []
        while self._released < len(self._judged) and self._judged[self._released][1]:
            released.append(self._judged[self._released][0])
            self._released += 1
        if not released:
            return ""
        return ("" if self._released == len(released) else " ") + " ".join(released)

    def _verdict(self, sentence: str) -> bool | None:
        """True: passes; False: fails; None: held (cites nothing, or declines)."""
        cited = [n for n in cited_numbers(sentence) if n in self.sources]
        if not cited or only_declines(sentence, self.question):
            return None
        score, failures = judge_sentence(
            sentence, self.sources, cited, self.question, self.articles
        )
        return not failures and score >= self.min_support
