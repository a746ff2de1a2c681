"""Stories: the articles of one event from several outlets, grouped.

Two articles belong to one story when their first chunks (title, date and lead, as
embedded) have a cosine of at least `similarity` and their dates are at most `days`
apart. On realtimeqa-2023-articles (CNN and USA Today, pairs within 2 days), pairs at
0.8 and above are the same event ("No survivors found among 132 people in China plane
crash" / "Chinese airliner carrying 132 people crashes"); between 0.7 and 0.8 they are
mostly the same developing story (Hurricane Ian before and after landfall), and below
0.7 related stories (two Golden Globes lists). Grouping is single-link, newest first.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from index.sentences import sentence_spans
from index.store.chunks import ChunkStore
from index.store.schema import StoredArticle, date_ordinal, stored_article

_MIN_LEAD_WORDS = 6  # a shorter first "sentence" is a heading or a note; take the next


@dataclass(frozen=True)
class Lead:
    """An article's first chunk: its text and its unit vector."""

    article: StoredArticle
    text: str
    vector: np.ndarray

    @property
    def sentence(self) -> str:
        """The article's first sentence of some length, exactly as stored."""
        sentences = [self.text[start:end] for start, end in sentence_spans(self.text)]
        return next(
            (
                s
                for s in sentences
                if len(s.split()) >= _MIN_LEAD_WORDS and not same(s, self.article.title)
            ),
            self.text[:300],
        )


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


def read_leads(store: ChunkStore, ingested_since: float) -> list[Lead]:
    """The first chunks of the articles ingested at or after `ingested_since` (Unix s)."""
    where = {"$and": [{"chunk_index": 0}, {"ingested": {"$gte": float(ingested_since)}}]}
    leads = []
    for page in store.pages(["embeddings", "documents", "metadatas"], where=where):
        for text, vector, meta in zip(
            page["documents"], page["embeddings"], page["metadatas"], strict=True
        ):
            leads.append(Lead(stored_article(meta), text, unit(vector)))
    return leads


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
