"""Web pages as articles: fetch with `Fetcher`, extract the article with trafilatura."""

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from index.articles import Article, derived_id, slugify
from index.errors import FetchError
from index.ingest.loaders import LoadProblem
from index.ingest.metadata import date_from_url, parse_date, title_from_url
from index.web.fetch import Fetcher, Page

log = logging.getLogger(__name__)

HTML_TYPES = {"text/html", "application/xhtml+xml"}
MIN_ARTICLE_WORDS = 20
_SENTENCE_END = re.compile(r"\w[.!?][\"'\u201d\u2019)]*(?:\s|$)")


def is_url(text: str) -> bool:
    """Whether a command-line argument is a URL rather than a path."""
    return "://" in text and urlsplit(text).scheme.isalpha()


def article_id(url: str) -> str:
    """A stable id for the article at a URL: the site's name and a short hash."""
    host = (urlsplit(url).hostname or "web").removeprefix("www.")
    return f"{slugify(host)[:40]}-{derived_id(url)[:10]}"


def article_from_html(
    html: bytes | str, url: str, fallback: dict[str, Any] | None = None
) -> Article:
    """Extract the main text and metadata of a page; FetchError when there is no article."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, as_dict=True
    )
    meta: dict[str, Any] = doc if isinstance(doc, dict) else {}
    text = meta.get("text") or ""
    if not _reads_like_article(text):
        raise FetchError("no article text found in the page")
    extra = fallback or {}
    raw_date = meta.get("date") or extra.get("date")
    return Article(
        id=article_id(url),
        text=text,
        title=meta.get("title") or extra.get("title") or title_from_url(url) or url,
        origin=url,
        date=(parse_date(raw_date, dayfirst=False) if raw_date else None) or date_from_url(url),
        source=meta.get("sitename") or extra.get("source") or meta.get("hostname"),
        url=url,
        author=meta.get("author") or extra.get("author"),
    )


def _reads_like_article(text: str) -> bool:
    """At least a few sentences: trafilatura's fallback can return a menu's link texts."""
    return len(text.split()) >= MIN_ARTICLE_WORDS and bool(_SENTENCE_END.search(text))


def article_from_page(page: Page, url: str, fallback: dict[str, Any] | None = None) -> Article:
    """The article in a fetched page; FetchError when it isn't HTML or has no article."""
    if page.content_type and page.content_type not in HTML_TYPES:
        raise FetchError(f"not an HTML page ({page.content_type})")
    return article_from_html(page.body, url, fallback)


def fetch_article(fetcher: Fetcher, url: str, fallback: dict[str, Any] | None = None) -> Article:
    """Fetch one page and extract its article; FetchError with a one-line reason."""
    page = fetcher.get(url)
    return article_from_page(page, page.url, fallback)


def fetch_articles(
    fetcher: Fetcher,
    urls: Iterable[str],
    done: Callable[[str], None] | None = None,
) -> Iterator[Article | LoadProblem]:
    """Fetch pages concurrently, in order; each failure becomes a `LoadProblem`."""

    def one(url: str) -> Article | LoadProblem:
        try:
            return fetch_article(fetcher, url)
        except FetchError as exc:
            return LoadProblem(url, str(exc))
        except Exception as exc:  # a bug must not sink the rest of the batch
            log.exception("unexpected error while reading %s", url)
            return LoadProblem(url, f"unexpected error ({type(exc).__name__}); see the log")
        finally:
            if done:
                done(url)

    with ThreadPoolExecutor(fetcher.settings.workers, thread_name_prefix="fetch") as pool:
        yield from pool.map(one, list(urls))
