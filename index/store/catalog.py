"""What the index holds, as the CLI and the bot list it: articles, counts, date range."""

from dataclasses import dataclass

from index.settings import IndexConfig
from index.store.chunks import ChunkStore, open_existing
from index.store.schema import StoredArticle


@dataclass(frozen=True)
class IndexStats:
    """What the index holds."""

    articles: int
    chunks: int
    first_date: str | None
    last_date: str | None
    model: str
    cut: str | None  # how its articles were cut, as recorded ("256 word pieces overlapping 48")
    location: str


def newest_first(store: ChunkStore) -> list[StoredArticle]:
    """Every complete article in the store, newest first (then by id)."""
    return sorted(store.articles().values(), key=lambda a: (a.date or "", a.id), reverse=True)


def stats_of(store: ChunkStore, configured_model: str) -> IndexStats:
    """Counts, date range, model (the recorded one, else the configured), cut and location."""
    articles = store.articles()
    cut = store.cut()
    dates = sorted(a.date for a in articles.values() if a.date)
    return IndexStats(
        articles=len(articles),
        chunks=store.count(),
        first_date=dates[0] if dates else None,
        last_date=dates[-1] if dates else None,
        model=store.embedding_model() or configured_model,
        cut=cut.describe() if cut else None,
        location=store.location,
    )


def list_articles(config: IndexConfig) -> list[StoredArticle]:
    """The configured index's articles, newest first; EmptyIndexError when there is none."""
    return newest_first(open_existing(config.data_dir, config.store))


def index_stats(config: IndexConfig) -> IndexStats:
    """The configured index's figures; EmptyIndexError when there is none."""
    return stats_of(open_existing(config.data_dir, config.store), config.embedding.model)
