"""What every front end shows: an answer and the sources it quotes."""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.llm.grounding import Grounding


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


def cite(n: int, meta: Mapping[str, Any], snippet: str, start: int, end: int) -> Citation:
    """A citation of a chunk (by its stored metadata) quoting `snippet` at [start, end)."""
    return Citation(
        n=n,
        article_id=meta["article_id"],
        title=meta.get("title", ""),
        date=meta.get("date") or None,
        source=meta.get("source") or None,
        url=meta.get("url") or None,
        snippet=snippet,
        score=round(float(meta.get("score", 0.0)), 4),
        start=start,
        end=end,
    )


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
