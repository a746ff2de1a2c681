"""The digest: the stories of the articles in a window, newest first.

Shared by `newsbot digest` and Telegram's /digest. The window selects articles by
their date (an undated one by when it came in), or by when they came in
(`Window.by`); Telegram's "what is new since your last digest" is by ingest time. Only
articles whose ingest time was recorded (every ingest since the digest existed) can be
in a window by ingest time. Articles of one event from several outlets are one story
(index/search/stories.py); each story gives its title and date, its outlets, its lead
(its first news sentence, never a dateline or a credit line) quoted exactly, and its
links. A digest of more than SUMMARY_AFTER stories starts with the most reported ones.
"""

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from bot.config import DigestSettings
from index.search.stories import Story, Window, group_stories, read_leads, story_date
from index.store.chunks import ChunkStore

SUMMARY_AFTER = 5  # a digest of more stories than this starts with the most reported
MOST_REPORTED = 5  # stories named in that summary


@dataclass(frozen=True)
class Digest:
    """The stories of the articles in a window."""

    window: Window
    stories: list[Story]

    @property
    def since(self) -> float:
        """Where the window starts (Unix seconds)."""
        return self.window.since

    @property
    def until(self) -> float:
        """Where the window ends, exclusive (Unix seconds)."""
        return self.window.until

    @property
    def articles(self) -> int:
        """How many articles the stories hold."""
        return sum(len(story.leads) for story in self.stories)

    def most_reported(self) -> list[Story]:
        """The stories to name first in a long digest: by outlets, then articles; none
        when the digest is short."""
        if len(self.stories) <= SUMMARY_AFTER:
            return []
        ranked = sorted(self.stories, key=lambda s: (-len(s.outlets), -len(s.leads)))
        return ranked[:MOST_REPORTED]

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """The digest as JSON-ready data; times in ISO 8601 with their offset."""
        return {
            "since": _moment(self.since, zone).isoformat(timespec="seconds"),
            "until": _moment(self.until, zone).isoformat(timespec="seconds"),
            "by": self.window.by,
            "stories": [story_json(story) for story in self.stories],
        }


def build_digest(store: ChunkStore, settings: DigestSettings, window: Window) -> Digest:
    """The digest of the articles in the window."""
    stories = group_stories(
        read_leads(store, window), settings.story_similarity, settings.story_days
    )
    return Digest(window, stories)


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
    lead = story.leads[0].sentence
    return [
        heading,
        "   " + ", ".join(story.outlets),
        *([f"   \u201c{lead}\u201d"] if lead else []),
        *(f"   {url}" for url in story.links),
    ]


def heading(digest: Digest, zone: tzinfo | None = None) -> str:
    """The first line: the window and what it holds."""
    if digest.window.by == "date":
        first, last = (date.fromordinal(day).isoformat() for day in digest.window.days)
        dated = f"dated {first}" if first == last else f"dated {first} to {last}"
        if not digest.stories:
            return f"No articles {dated}."
        return f"{_counted(digest)} {dated}:"
    since = _moment(digest.since, zone).strftime("%Y-%m-%d %H:%M %Z").strip()
    if not digest.stories:
        return f"No new articles since {since}."
    return f"{_counted(digest)} since {since}:"


def _counted(digest: Digest) -> str:
    stories, articles = len(digest.stories), digest.articles
    return (
        f"{stories} {'story' if stories == 1 else 'stories'} from {articles} "
        f"{'article' if articles == 1 else 'articles'}"
    )


def summary_lines(digest: Digest) -> list[str]:
    """The top of a long digest: its most reported stories, one line each; [] if short."""
    top = digest.most_reported()
    if not top:
        return []
    return ["Most reported:", *(f"- {s.article.title} ({outlets(s)})" for s in top)]


def outlets(story: Story) -> str:
    """How many outlets reported a story, in words, and its articles when more."""
    count, articles = len(story.outlets), len(story.leads)
    said = f"{count} {'outlet' if count == 1 else 'outlets'}"
    return f"{said}, {articles} articles" if articles > count else said


def digest_text(digest: Digest, zone: tzinfo | None = None, first: int = 0, count: int = 0) -> str:
    """The digest as plain text: the heading and summary, then stories `first` to
    `first + count` (0: all)."""
    shown = digest.stories[first : first + count] if count else digest.stories[first:]
    lines = []
    if first == 0:
        lines = [heading(digest, zone)]
        summary = summary_lines(digest)
        lines += ["", *summary] if summary else []
    for number, story in enumerate(shown, start=first + 1):
        lines += ["", *story_lines(number, story)]
    return "\n".join(lines).lstrip("\n")


def _moment(seconds: float, zone: tzinfo | None) -> datetime:
    """A Unix time as an aware datetime in `zone` (the machine's own zone when None)."""
    return datetime.fromtimestamp(seconds, zone).astimezone(zone)
