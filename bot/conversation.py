"""Conversation state: the recent turns a follow-up question is retrieved with.

"What did he tell Army Radio?" says nothing about who "he" is. When a question looks
like a follow-up (`bot.questions.is_follow_up`), it is retrieved together with the
previous turn's standalone question; a question with its own subject is retrieved alone.
"""

from collections import deque
from dataclasses import dataclass

from bot.answer import Answer
from bot.questions import clarification, is_follow_up

__all__ = ["Conversation", "Turn", "is_follow_up"]


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
