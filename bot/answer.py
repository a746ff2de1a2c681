"""What every front end shows: an answer and the sources it quotes."""

from typing import Literal

from pydantic import BaseModel, Field

from bot.grounding import Grounding


class Citation(BaseModel):
    """One quoted source: `snippet` is exactly `article.text[start:end]`."""

    n: int
    article_id: str
    title: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    snippet: str
    score: float
    start: int
    end: int


class Answer(BaseModel):
    """The answer text, with [n] markers pointing into `citations`.

    `mode` says who wrote it: the extractive answerer, the LLM, or the extractive
    answerer standing in for an LLM answer that failed (`extractive-fallback`, with
    `notice` saying why). `grounding` is the LLM answer's grounding check.
    """

    text: str
    abstained: bool = False
    citations: list[Citation] = Field(default_factory=list)
    mode: Literal["extractive", "llm", "extractive-fallback"] = "extractive"
    grounding: Grounding | None = None
    notice: str | None = None


NOT_FOUND = "Not found in the indexed articles."
