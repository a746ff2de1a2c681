"""Conversation state: the recent turns a follow-up question is retrieved with.

"What did he tell Army Radio?" says nothing about who "he" is. When a question looks
like a follow-up (`bot.questions.is_follow_up`), it is retrieved together with the
previous turn's standalone question; a question with its own subject ("How old was
Jimmy Carter when he died?") is retrieved alone and starts a new topic.

A topic is a question and the follow-ups after it: each follow-up's standalone question
starts with the one before it. "and who else?" is retrieved as the question before it,
without the sentences the topic's answers quoted, and "when was that?" is answered from
the topic's citations (`bot.follow_ups`). Both are read from the turns alone, so a
conversation restored from saved turns (Telegram's sessions) works the same.
"""

from collections import deque
from dataclasses import dataclass
from typing import Literal

from bot.answer import Answer
from bot.follow_ups import Said, said_in
from bot.questions import asks_for_more, asks_when, clarification, is_follow_up, own_terms

__all__ = ["Conversation", "Plan", "Turn", "is_follow_up"]

_MORE_WORDS = frozenset({"els", "other", "anyon", "anyth", "somebodi", "someon", "someth"})


@dataclass(frozen=True)
class Turn:
    """One question, the standalone form it was retrieved with, and its answer."""

    question: str
    standalone: str
    answer: Answer


@dataclass(frozen=True)
class Plan:
    """How to answer a message: `kind` "new" (alone), "follow-up" (with the previous
    turn), "more" (as the previous turn, without what was `said`) or "when" (the date of
    the answers on the topic, newest first, in `previous`); "more" keeps the topic's newest
    answer with a confidence in `previous`, to weigh a new one against."""

    kind: Literal["new", "follow-up", "more", "when"]
    standalone: str
    said: frozenset[Said] = frozenset()
    previous: tuple[Answer, ...] = ()


class Conversation:
    """The recent turns of one chat."""

    def __init__(self, max_turns: int = 3) -> None:
        self.turns: deque[Turn] = deque(maxlen=max(max_turns, 1))
        self.enabled = max_turns > 0

    def plan(self, question: str) -> Plan:
        """How `question` leans on the turns before it, if it does."""
        if not self.enabled or not self.turns:
            return Plan("new", question)
        last = self.turns[-1]
        topic = self._topic()
        said = frozenset().union(*(said_in(t.answer) for t in topic))
        if asks_when(question):
            answered = tuple(t.answer for t in topic if t.answer.citations)
            if answered:
                return Plan("when", last.standalone, said, answered)
        if asks_for_more(question):
            extra = own_terms(question) - _MORE_WORDS
            standalone = f"{last.standalone} {question}" if extra else last.standalone
            weighed = [t.answer for t in topic if t.answer.confidence is not None]
            return Plan("more", standalone, said, tuple(weighed[:1]))
        if is_follow_up(question):
            return Plan("follow-up", f"{last.standalone} {question}", said)
        return Plan("new", question)

    def _topic(self) -> list[Turn]:
        """The remembered turns of the current topic, newest first."""
        turns = list(reversed(self.turns))
        topic = turns[:1]
        for turn in turns[1:]:
            if not topic[-1].standalone.startswith(turn.standalone):
                break
            topic.append(turn)
        return topic

    def standalone(self, question: str) -> str:
        """The question to retrieve with: joined to the last one when it is a follow-up."""
        return self.plan(question).standalone

    def clarification(self, question: str) -> str | None:
        """A short reply when the message names nothing to search for (see bot.questions)."""
        return clarification(question, has_previous_turn=self.enabled and bool(self.turns))

    def add(self, question: str, standalone: str, answer: Answer) -> None:
        """Remember a finished turn."""
        self.turns.append(Turn(question, standalone, answer))

    def last_answer(self) -> Answer | None:
        """The most recent answer, if any."""
        return self.turns[-1].answer if self.turns else None

    def clear(self) -> None:
        """Forget everything."""
        self.turns.clear()
