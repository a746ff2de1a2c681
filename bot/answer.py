"""What every front end shows: an answer and the sources it quotes."""

from pydantic import BaseModel, Field


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
    """The answer text, with [n] markers pointing into `citations`."""

    text: str
    abstained: bool = False
    citations: list[Citation] = Field(default_factory=list)


NOT_FOUND = "Not found in the indexed articles."
