"""Polite, bounded HTTP fetching with httpx, for web pages, feeds and robots.txt.

Every request names newsbot in its User-Agent, has a timeout (for each read and for the
whole answer) and a size cap (the body is streamed and abandoned past
`fetch.max_page_mb`), and waits for one of a few slots
per host. 5xx answers and timeouts are retried with exponential backoff. Redirects
are followed by hand so that each hop is checked again by the SSRF guard (guard.py)
and by robots.txt, which is respected unless `fetch.respect_robots` is off. The
address actually connected to is checked too, before the body is read (DNS rebinding).
"""

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from urllib.request import getproxies
from urllib.robotparser import RobotFileParser

import httpx

from index.errors import FetchError, UnsafeURLError
from index.retry import with_backoff
from index.settings import FetchSettings
from index.web.guard import check_url, is_public

log = logging.getLogger(__name__)

_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Page:
    """One fetched resource: its final URL, status, media type, body and headers."""

    url: str
    status: int
    content_type: str = ""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        """Whether a conditional request was answered 304 Not Modified."""
        return self.status == 304


class Fetcher:
    """Fetches URLs under the configured limits; safe to share between threads."""

    def __init__(
        self, settings: FetchSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.max_bytes = int(settings.max_page_mb * 1_000_000)
        self.client = httpx.Client(
            timeout=settings.timeout_s,
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent},
            transport=transport,
        )
        # through a proxy the peer is the proxy, not the site (NO_PROXY alone sets none)
        self._proxied = bool({"http", "https", "all"} & getproxies().keys())
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._robots: dict[str, RobotFileParser] = {}
        self._robots_reads: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Page:
        """GET a URL, following checked redirects; FetchError with a one-line reason."""
        seen: set[str] = set()
        for _ in range(self.settings.max_redirects + 1):
            if url in seen:
                raise FetchError(f"redirect loop (back to {url})")
            seen.add(url)
            check_url(url, self.settings.allow_private)
            if self.settings.respect_robots and not self._robots_allow(url):
                raise FetchError("robots.txt disallows fetching this URL")
            page = self._request(url, headers or {})
            if page.status in _REDIRECTS:
                location = page.headers.get("location")
                if not location:
                    raise FetchError(f"HTTP {page.status} redirect without a Location header")
                url = urljoin(url, location)
                continue
            if page.status >= 400:
                raise FetchError(f"HTTP {page.status} {_reason(page.status)}".rstrip())
            return page
        raise FetchError(f"too many redirects (more than {self.settings.max_redirects})")

    def _request(self, url: str, headers: Mapping[str, str]) -> Page:
        """One request, retried with backoff on 5xx answers and timeouts."""

        def attempt() -> Page:
            with self._slot(urlsplit(url).netloc):
                page = self._once(url, headers)
            if page.status >= 500:
                raise _ServerError(page)
            return page

        try:
            return with_backoff(
                attempt,
                retries=self.settings.retries,
                backoff_s=self.settings.backoff_s,
                retry_on=(httpx.TimeoutException, _ServerError),
                what=f"fetching {url}",
                level=logging.INFO,
            )
        except _ServerError as exc:  # still failing after the retries: the caller says so
            return exc.page
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {self.settings.timeout_s:g}s") from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"not a valid URL ({exc})") from None
        except httpx.TransportError as exc:
            raise FetchError(f"can't connect ({_describe(exc)})") from None
        except httpx.HTTPError as exc:  # e.g. a body that doesn't decode
            raise FetchError(f"can't fetch ({_describe(exc)})") from None

    def _once(self, url: str, headers: Mapping[str, str]) -> Page:
        """Send one GET; the body is read (up to the cap) only for successful answers."""
        # httpx's timeout bounds each read, not the whole answer: a server that sends a
        # few bytes at a time could hold a fetch (and the writer thread) for hours
        deadline = time.monotonic() + self.settings.timeout_s
        with self.client.stream("GET", url, headers=dict(headers)) as response:
            self._check_peer(response, url)
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            body = b""
            if 200 <= response.status_code < 300:
                body = self._read_capped(response, deadline)
            return Page(url, response.status_code, kind, body, dict(response.headers))

    def _check_peer(self, response: httpx.Response, url: str) -> None:
        """Refuse the answer of a private address the host name resolved to only now.

        check_url resolved the name before the request; a name that resolves elsewhere
        a moment later (DNS rebinding) is caught here, before the body is read.
        """
        if self.settings.allow_private or self._proxied:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and not is_public(str(peer[0])):
            raise UnsafeURLError(
                f"{urlsplit(url).hostname} connected to the private address {peer[0]}; refused"
            )

    def _read_capped(self, response: httpx.Response, deadline: float) -> bytes:
        """The response body; FetchError as soon as it exceeds the size cap.

        Past the deadline it raises httpx.ReadTimeout, retried like any other timeout.
        """
        limit = self.settings.max_page_mb
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(f"too large ({int(length) / 1e6:.1f} MB, over {limit:g} MB)")
        body = bytearray()
        for piece in response.iter_bytes():
            body += piece
            if len(body) > self.max_bytes:
                raise FetchError(f"too large (over {limit:g} MB; raise fetch.max_page_mb)")
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the body took too long", request=response.request)
        return bytes(body)

    @contextmanager
    def _slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's `fetch.per_host_requests` slots."""
        with self._lock:
            slot = self._slots.setdefault(
                host, threading.BoundedSemaphore(self.settings.per_host_requests)
            )
        with slot:
            yield

    def _robots_allow(self, url: str) -> bool:
        """Whether the site's robots.txt lets newsbot fetch the URL (cached per site)."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            reading = self._robots_reads.setdefault(site, threading.Lock())
        with reading:  # one read per site, however many threads ask at once
            if site not in self._robots:
                self._robots[site] = self._read_robots(site)
        return self._robots[site].can_fetch(self.settings.user_agent, url)

    def _read_robots(self, site: str) -> RobotFileParser:
        """Fetch and parse robots.txt; missing or unreachable means everything is allowed.

        A 5xx answer (after the retries) disallows the whole site, as RFC 9309 asks:
        the server is up but can't say what it allows.
        """
        parser = RobotFileParser(f"{site}/robots.txt")
        lines: list[str] = []
        try:
            page = self._request(f"{site}/robots.txt", {})
        except FetchError as exc:
            log.info("no robots.txt from %s (%s); allowing", site, exc)
        else:
            if page.status in (401, 403) or page.status >= 500:
                log.info("robots.txt from %s answered HTTP %d; disallowing", site, page.status)
                lines = ["User-agent: *", "Disallow: /"]
            elif page.status < 300:
                lines = page.body.decode("utf-8", errors="replace").splitlines()
        parser.parse(lines)
        return parser


class _ServerError(Exception):
    """A 5xx answer, worth retrying."""

    def __init__(self, page: Page) -> None:
        super().__init__(f"HTTP {page.status}")
        self.page = page


def _reason(status: int) -> str:
    """'Not Found' for 404, and so on."""
    return httpx.codes.get_reason_phrase(status)


def _describe(exc: httpx.HTTPError) -> str:
    """A short reason for a transport failure."""
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
