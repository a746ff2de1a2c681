"""Stories: the articles of one event from several outlets, grouped.

Two articles belong to one story when their first chunks (title, date and lead, as
embedded) have a cosine of at least `similarity` and their dates are at most `days`
apart. On realtimeqa-2023-articles (CNN and USA Today, pairs within 2 days), pairs at
0.8 and above are nearly always the same event ("No survivors found among 132 people in
China plane crash" / "Chinese airliner carrying 132 people crashes"); between 0.7 and
0.8 most are still the same event told another way (an explainer, the aftermath, the
next day's developments), and below 0.65 most are related stories or roundups. The
default 0.72 was chosen on labelled pairs (benchmarks/story_grouping.py). Grouping is
single-link, newest first.

A story's lead is its newest article's first news sentence: never a line that ingest
recorded as furniture (a dateline, byline, credit, summary block: index/furniture.py).
A digest's `Window` selects articles by their date (undated ones by when they came in)
or, when asked, by when they came in.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np

from index.furniture import Furniture, is_furniture, spans_in
from index.sentences import sentence_spans
from index.store.chunks import ChunkStore
from index.store.schema import StoredArticle, date_ordinal, stored_article

_MIN_LEAD_WORDS = 6  # a shorter first "sentence" is a heading or a note; take the next


@dataclass(frozen=True)
class Lead:
    """An article's first chunk: its text, its unit vector, where it starts in the
    article and the furniture lines ingest found in it."""

    article: StoredArticle
    text: str
    vector: np.ndarray
    start: int = 0
    furniture: list[Furniture] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        """The article's first news sentence, exactly as stored: not furniture, not the
        title again, no question ("Looking for updates on …?"), and of some length (a
        shorter one or a question only when no other is); "" if none."""
        sentences = [
            self.text[a:b]
            for a, b in sentence_spans(self.text)
            if not is_furniture(self.furniture, self.start + a, self.start + b)
            and not same(self.text[a:b], self.article.title)
        ]
        full = (s for s in sentences if len(s.split()) >= _MIN_LEAD_WORDS and not s.endswith("?"))
        return next(full, sentences[0] if sentences else "")


@dataclass(frozen=True)
class Story:
    """One event: its articles, newest first."""

    leads: list[Lead]

    @property
    def article(self) -> StoredArticle:
        """The article that names the story: the newest."""
        return self.leads[0].article

    @property
    def outlets(self) -> list[str]:
        """The sources that reported it, in order, without repeats."""
        return list(dict.fromkeys(lead.article.source or "unknown source" for lead in self.leads))

    @property
    def links(self) -> list[str]:
        """The articles' links, without repeats."""
        return list(dict.fromkeys(lead.article.url for lead in self.leads if lead.article.url))


@dataclass(frozen=True)
class Window:
    """Which articles a digest holds, from `since` to before `until` (Unix seconds).

    By "date", an article dated on a day from since's to until's is in (an undated one
    when it came in inside the window); by "ingested", an article that came in inside it.
    Days are the machine's local days.
    """

    since: float
    until: float
    by: Literal["date", "ingested"] = "date"

    @property
    def days(self) -> tuple[int, int]:
        """The first and last day of the window as ordinals."""
        last = max(self.since, self.until - 1e-3)
        return _local_day(self.since), _local_day(last)


def read_leads(store: ChunkStore, window: Window) -> list[Lead]:
    """The first chunks of the articles in the window."""
    came_in = [{"ingested": {"$gte": float(window.since)}}, {"ingested": {"$lt": window.until}}]
    if window.by == "ingested":
        return _leads(store, came_in, lambda meta: True)
    first, last = window.days
    dated = _leads(store, [{"day": {"$gte": first}}, {"day": {"$lte": last}}], lambda meta: True)
    undated = _leads(store, came_in, lambda meta: "day" not in meta)
    return dated + undated


def _leads(
    store: ChunkStore, conditions: list[dict[str, Any]], keep: Callable[[Mapping[str, Any]], bool]
) -> list[Lead]:
    """The chunk-0 leads that meet every condition (a Chroma filter) and `keep`."""
    where = {"$and": [{"chunk_index": 0}, *conditions]}
    leads = []
    for page in store.pages(["embeddings", "documents", "metadatas"], where=where):
        for text, vector, meta in zip(
            page["documents"], page["embeddings"], page["metadatas"], strict=True
        ):
            if keep(meta):
                start = int(meta.get("start", 0))
                furniture = spans_in(text, meta)
                leads.append(Lead(stored_article(meta), text, unit(vector), start, furniture))
    return leads


def _local_day(seconds: float) -> int:
    return datetime.fromtimestamp(seconds).date().toordinal()


def same(sentence: str, title: str) -> bool:
    """Whether a sentence is the title again (a heading at the top of the text)."""
    return " ".join(sentence.split()).casefold() == " ".join(title.split()).casefold()


def unit(vector: Iterable[float]) -> np.ndarray:
    """A vector scaled to length 1 (float32)."""
    array = np.asarray(vector, dtype=np.float32)
    return array / (np.linalg.norm(array) or 1.0)


def newest_first(leads: Iterable[Lead]) -> list[Lead]:
    """Leads by article date, then by when they came in, newest first."""
    return sorted(
        leads,
        key=lambda lead: (lead.article.date or "", lead.article.ingested or 0.0),
        reverse=True,
    )


def group_stories(leads: Sequence[Lead], similarity: float, days: int) -> list[Story]:
    """The leads grouped into stories, newest story first."""
    ordered = newest_first(leads)
    if not ordered:
        return []
    vectors = np.stack([lead.vector for lead in ordered])
    close = vectors @ vectors.T >= similarity
    ordinals = [date_ordinal(lead.article.date) for lead in ordered]
    story_of = list(range(len(ordered)))  # union-find over close pairs

    def root(i: int) -> int:
        while story_of[i] != i:
            story_of[i] = story_of[story_of[i]]
            i = story_of[i]
        return i

    for i in range(len(ordered)):
        for j in np.nonzero(close[i, i + 1 :])[0] + i + 1:
            if _near_in_time(ordinals[i], ordinals[int(j)], days):
                story_of[root(int(j))] = root(i)
    grouped: dict[int, list[Lead]] = {}
    for i, lead in enumerate(ordered):
        grouped.setdefault(root(i), []).append(lead)
    return [Story(members) for members in grouped.values()]


def _near_in_time(first: int | None, second: int | None, days: int) -> bool:
    """Whether two dates are at most `days` apart; an undated article is near any."""
    return first is None or second is None or abs(first - second) <= days


def story_date(story: Story) -> date | None:
    """The date of the story's newest article."""
    ordinal = date_ordinal(story.article.date)
    return date.fromordinal(ordinal) if ordinal else None
