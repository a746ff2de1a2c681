"""Conversation state and the follow-up heuristic used to retrieve for follow-up questions.

"What did he tell Army Radio?" says nothing about who "he" is. When a question looks
like a follow-up (a pronoun, a leading "and"/"what about", or very few content
words), it is retrieved together with the previous turn's standalone question.
"""

import re
from collections import deque
from dataclasses import dataclass

from bot.answer import Answer
from index.terms import terms

_PRONOUNS = re.compile(
    r"\b(he|she|they|him|her|his|hers|them|their|theirs|it|its|this|that|these|those|"
    r"there|the same)\b",
    re.I,
)
_CONTINUATIONS = re.compile(r"^\s*(and|but|also|so|what about|how about|what else|why)\b", re.I)
_MIN_OWN_TERMS = 2  # a question with fewer content words than this is a follow-up


@dataclass(frozen=True)
class Turn:
    """One question, the standalone form it was retrieved with, and its answer."""

    question: str
    standalone: str
    answer: Answer


class Conversation:
    """The recent turns of one chat."""

    def __init__(self, max_turns: int = 3) -> None:
        self.turns: deque[Turn] = deque(maxlen=max(max_turns, 1))
        self.enabled = max_turns > 0

    def standalone(self, question: str) -> str:
        """The question to retrieve with: joined to the last one when it is a follow-up."""
        if not self.enabled or not self.turns or not is_follow_up(question):
            return question
        return f"{self.turns[-1].standalone} {question}"

    def add(self, question: str, standalone: str, answer: Answer) -> None:
        """Remember a finished turn."""
        self.turns.append(Turn(question, standalone, answer))

    def last_answer(self) -> Answer | None:
        """The most recent answer, if any."""
        return self.turns[-1].answer if self.turns else None

    def clear(self) -> None:
        """Forget everything."""
        self.turns.clear()


def is_follow_up(question: str) -> bool:
    """Whether a question leans on an earlier one."""
    return bool(
        _PRONOUNS.search(question)
        or _CONTINUATIONS.match(question)
        or len(set(terms(question))) < _MIN_OWN_TERMS
    )
