"""The digest: the stories of the articles ingested in a window, newest first.

Shared by `newsbot digest` and Telegram's /digest. Articles of one event from several
outlets are one story (index/search/stories.py); each story gives its title and date,
its outlets, its lead sentence quoted exactly and its links. Only articles whose
ingest time was recorded (every ingest since the digest existed) can be in a window.
"""

import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from bot.config import DigestSettings
from index.search.stories import Story, group_stories, read_leads, story_date
from index.store.chunks import ChunkStore


@dataclass(frozen=True)
class Digest:
    """The stories of the articles ingested between `since` and `until` (Unix seconds)."""

    since: float
    until: float
    stories: list[Story]

    @property
    def articles(self) -> int:
        """How many articles the stories hold."""
        return sum(len(story.leads) for story in self.stories)

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """The digest as JSON-ready data; times in ISO 8601 with their offset."""
        return {
            "since": _moment(self.since, zone).isoformat(timespec="seconds"),
            "until": _moment(self.until, zone).isoformat(timespec="seconds"),
            "stories": [story_json(story) for story in self.stories],
        }


def build_digest(
    store: ChunkStore, settings: DigestSettings, since: float, until: float | None = None
) -> Digest:
    """The digest of the articles ingested at or after `since` (and before `until`)."""
    until = time.time() if until is None else until
    leads = [
        lead
        for lead in read_leads(store, since)
        if lead.article.ingested is None or lead.article.ingested < until
    ]
    stories = group_stories(leads, settings.story_similarity, settings.story_days)
    return Digest(since, until, stories)


def story_json(story: Story) -> dict[str, Any]:
    """One story as JSON-ready data."""
    day = story_date(story)
    return {
        "title": story.article.title,
        "date": day.isoformat() if day else None,
        "outlets": story.outlets,
        "lead": story.leads[0].sentence,
        "links": story.links,
        "articles": [
            {
                "id": lead.article.id,
                "title": lead.article.title,
                "source": lead.article.source,
                "date": lead.article.date,
                "url": lead.article.url,
            }
            for lead in story.leads
        ],
    }


def story_lines(number: int, story: Story) -> list[str]:
    """A story as plain text: title and date, outlets, the quoted lead, the links."""
    day = story_date(story)
    heading = f"{number}. {story.article.title}" + (f" ({day.isoformat()})" if day else "")
    return [
        heading,
        "   " + ", ".join(story.outlets),
        f"   \u201c{story.leads[0].sentence}\u201d",
        *(f"   {url}" for url in story.links),
    ]


def heading(digest: Digest, zone: tzinfo | None = None) -> str:
    """The first line: the window and what it holds."""
    since = _moment(digest.since, zone).strftime("%Y-%m-%d %H:%M %Z").strip()
    if not digest.stories:
        return f"No new articles since {since}."
    stories, articles = len(digest.stories), digest.articles
    return (
        f"{stories} {'story' if stories == 1 else 'stories'} from {articles} "
        f"{'article' if articles == 1 else 'articles'} since {since}:"
    )


def digest_text(digest: Digest, zone: tzinfo | None = None, first: int = 0, count: int = 0) -> str:
    """The digest as plain text: the heading, then stories `first` to `first + count` (0: all)."""
    shown = digest.stories[first : first + count] if count else digest.stories[first:]
    lines = [heading(digest, zone)] if first == 0 else []
    for number, story in enumerate(shown, start=first + 1):
        lines += ["", *story_lines(number, story)]
    return "\n".join(lines).lstrip("\n")


def _moment(seconds: float, zone: tzinfo | None) -> datetime:
    """A Unix time as an aware datetime in `zone` (the machine's own zone when None)."""
    return datetime.fromtimestamp(seconds, zone).astimezone(zone)
