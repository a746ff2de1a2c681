"""What every front end shows: an answer and the sources it quotes."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.llm.grounding import Grounding


class Quote(BaseModel):
    """One sentence quoted from an article: `snippet` is exactly `article.text[start:end]`."""

    snippet: str
    start: int
    end: int


class Citation(BaseModel):
    """One cited article: `snippet` is exactly `article.text[start:end]`.

    `quotes` holds every sentence the answer quotes from the article, in the article's
    order; the first is also `snippet`, `start` and `end`.
    """

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
    quotes: list[Quote] = Field(default_factory=list)

    def quoted(self) -> list[Quote]:
        """Every quoted sentence (citations stored before `quotes` existed have one)."""
        return self.quotes or [Quote(snippet=self.snippet, start=self.start, end=self.end)]


def cite(n: int, meta: Mapping[str, Any], snippet: str, start: int, end: int) -> Citation:
    """A citation of a chunk (by its stored metadata) quoting `snippet` at [start, end)."""
    return cite_quotes(n, meta, [Quote(snippet=snippet, start=start, end=end)])


def cite_quotes(n: int, meta: Mapping[str, Any], quotes: Sequence[Quote]) -> Citation:
    """A citation of an article (by a chunk's stored metadata) quoting each of `quotes`."""
    first = quotes[0]
    return Citation(
        n=n,
        article_id=meta["article_id"],
        title=meta.get("title", ""),
        date=meta.get("date") or None,
        source=meta.get("source") or None,
        url=meta.get("url") or None,
        snippet=first.snippet,
        score=round(float(meta.get("score", 0.0)), 4),
        start=first.start,
        end=first.end,
        quotes=list(quotes),
    )


class ClosestArticle(BaseModel):
    """The article nearest to a question the articles don't answer: shown as not an answer."""

    article_id: str
    title: str
    date: str | None = None
    source: str | None = None
    url: str | None = None


class Answer(BaseModel):
    """The answer text, with [n] markers pointing into `citations`.

    `mode` says who wrote it: the extractive answerer, the LLM, or the extractive
    answerer standing in for an LLM answer that failed (`extractive-fallback`, with
    `notice` saying why). `grounding` is the LLM answer's grounding check. An extractive
    answer's `confidence` is the calibrated chance that it is right. An abstention may
    name the `closest` article, which its text marks as not an answer.
    """

    text: str
    abstained: bool = False
    citations: list[Citation] = Field(default_factory=list)
    mode: Literal["extractive", "llm", "extractive-fallback"] = "extractive"
    grounding: Grounding | None = None
    notice: str | None = None
    confidence: float | None = None
    closest: ClosestArticle | None = None
    dates: str = Field(default="", exclude=True)  # the dated() lines ending `text`, if any

    @property
    def body(self) -> str:
        """The answer without the dated() lines: what it says, not when its sources are from."""
        return self.text.removesuffix(self.dates).rstrip() if self.dates else self.text


NOT_FOUND = "The indexed articles don't answer this."
STALE_AFTER_DAYS = 3  # older than this, an answer says how old its newest source is


def abstention(closest: Mapping[str, Any] | None = None, **fields: Any) -> Answer:
    """The answer that says the articles don't answer this, naming the closest article.

    `closest` is that article's stored chunk metadata; every front end shows the same text:
    'The indexed articles don't answer this. The closest article, which does not answer
    it: "Title" (CNN, 2023-01-04).'
    """
    if closest is None:
        return Answer(text=NOT_FOUND, abstained=True, **fields)
    article = ClosestArticle(
        article_id=closest["article_id"],
        title=closest.get("title") or closest["article_id"],
        date=closest.get("date") or None,
        source=closest.get("source") or None,
        url=closest.get("url") or None,
    )
    details = ", ".join(x for x in (article.source, (article.date or "")[:10]) if x)
    pointer = f"The closest article, which does not answer it: \u201c{article.title}\u201d"
    text = f"{NOT_FOUND} {pointer}" + (f" ({details})." if details else ".")
    return Answer(text=text, abstained=True, closest=article, **fields)


def dated(answer: Answer, as_of: date | None = None) -> Answer:
    """The answer ending with each cited article's outlet and date, and a note when it is old.

    "[1] CNN, 2023-01-04; [2] AP, 2023-01-05", then, when the newest cited article is more
    than STALE_AFTER_DAYS older than `as_of`, "(The newest of these articles is 23 days
    older than 2023-01-27.)". Without `as_of`, as of today.
    """
    as_of = as_of or date.today()
    if answer.abstained or not answer.citations or answer.dates:
        return answer
    labels = [
        (c.n, ", ".join(x for x in (c.source, (c.date or "")[:10]) if x)) for c in answer.citations
    ]
    lines = ["; ".join(f"[{n}] {label}" for n, label in labels if label)]
    days = [d for c in answer.citations if (d := _day(c.date))]
    if days and (as_of - max(days)).days > STALE_AFTER_DAYS:
        age = _age((as_of - max(days)).days)
        lines.append(f"(The newest of these articles is {age} older than {as_of.isoformat()}.)")
    footer = "\n".join(line for line in lines if line)
    if not footer:
        return answer
    return answer.model_copy(update={"text": f"{answer.text}\n\n{footer}", "dates": footer})


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _age(days: int) -> str:
    """23 days, about 5 months, about 22 years."""
    if days < 60:
        return f"{days} days"
    if days < 730:
        return f"about {days // 30} months"
    return f"about {days // 365} years"
