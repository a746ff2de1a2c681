"""A small news site on 127.0.0.1 for the news-source tests, served over real HTTP.

It serves article pages with navigation, ads and comments around the story, an RSS
feed (summaries only, with ETag and Last-Modified) and an Atom feed (full text), and
the bad cases: a 404, a redirect loop, a huge page, a PDF, a page without an article,
a malformed feed, a flaky page (503 twice) and a robots.txt that forbids /private/.
Every request is recorded with its headers, and the peak number of requests in flight.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Story:
    """One article on the site."""

    slug: str
    title: str
    date: str  # YYYY-MM-DD
    author: str
    paragraphs: tuple[str, ...]
    outlet: str = "Harbour Herald"

    @property
    def path(self) -> str:
        return f"/news/{self.date.replace('-', '/')}/{self.slug}.html"

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


NAV = "Home World Business Sport Weather Subscribe to the Harbour Herald newsletter today"
AD = "Buy the Glitterphone 9 now with free shipping and zero percent financing"
COMMENT = "First! This council is a disgrace, says reader Mallory from the east side"

STORIES = [
    Story(
        "harbour-bridge-reopens",
        "Harbour bridge reopens after two years of repairs",
        "2024-03-12",
        "Ada Lindqvist",
        (
            "The Tallowmere harbour bridge reopened to traffic on Tuesday after two years "
            "of repairs that cost the city 48 million crowns, the transport office said.",
            "Engineers replaced all 212 steel cables and resurfaced the deck, which had "
            "been closed since a ferry struck one of its piers in the spring storm.",
            "Mayor Ingrid Solberg cut the ribbon at dawn and said the first car across was "
            "driven by the oldest bus driver in Tallowmere, Henrik Aas, who is 81.",
            "Commuters from the northern islands had used a temporary ferry service, which "
            "will now end on Friday, the harbour authority confirmed in a statement.",
        ),
    ),
    Story(
        "lantern-festival-record",
        "Lantern festival draws record crowd to Tallowmere",
        "2024-03-14",
        "Bruno Okafor",
        (
            "More than 60,000 visitors came to the Tallowmere lantern festival on "
            "Wednesday night, a record for the event, according to the organisers.",
            "The brightest lantern, a paper whale twelve metres long, was built by pupils "
            "of the Northgate school over four months, using recycled paper only.",
            "Police said the evening passed peacefully, and that the city trams ran "
            "every five minutes until two in the morning to carry the crowds home.",
        ),
    ),
]
FRESH = Story(
    "glowworm-ferry-launch",
    "Electric glowworm ferry enters service",
    "2024-03-20",
    "Chidi Mensah",
    (
        "The first electric ferry of the Tallowmere fleet, named Glowworm, entered service "
        "on Wednesday and carried 340 passengers on its first day, the operator said.",
        "The Glowworm ferry charges its batteries at the quay in eleven minutes, while "
        "passengers board, and crosses the harbour in a quarter of an hour.",
        "The operator plans to replace its three diesel ferries with electric ones by "
        "2027, at a cost of 90 million crowns shared with the regional government.",
    ),
)
MARKET = Story(
    "fish-market-moves",
    "Old fish market moves to the south quay",
    "2024-03-18",
    "Lena Varga",
    (
        "The Tallowmere fish market, held on the north quay since 1852, will move to a new "
        "hall on the south quay in June, the city council decided on Monday.",
        "Councillors voted 23 to 9 for the move, saying the old hall's roof is unsafe and "
        "that the south quay has room for 40 more stalls and a cold store.",
        "Fishmongers asked for free parking for customers during the first year, which the "
        "council promised to consider at its next meeting in April.",
    ),
)
ATOM_STORIES = [
    Story(
        "observatory-comet",
        "Tallowmere observatory spots a new comet",
        "2024-03-16",
        "Dana Petrova",
        tuple(
            f"Astronomers at the Tallowmere observatory said the comet, catalogued as "
            f"C/2024 T{i}, will pass closest to the sun in October and may be visible "
            f"with binoculars from the northern islands for about three weeks, part {i}."
            for i in range(1, 9)
        ),
    )
]


def page_html(story: Story) -> str:
    """A real-looking article page: navigation, an ad, the story, comments, a footer."""
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in story.paragraphs)
    links = "".join(f'<li><a href="/section/{w.lower()}">{w}</a></li>' for w in NAV.split())
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>{html.escape(story.title)} | {story.outlet}</title>
<meta property="og:title" content="{html.escape(story.title)}">
<meta property="og:site_name" content="{story.outlet}">
<meta property="article:published_time" content="{story.date}T08:30:00+00:00">
<meta name="author" content="{html.escape(story.author)}">
</head><body>
<header><nav class="menu"><ul>{links}</ul></nav></header>
<aside class="advert"><p>{AD}</p></aside>
<main><article>
<h1>{html.escape(story.title)}</h1>
<p class="byline">By {html.escape(story.author)}, {story.date}</p>
{body}</article>
<section id="comments" class="comments"><h2>Comments</h2>
<div class="comment"><p>{COMMENT}</p></div></section>
</main>
<footer><p>Copyright {story.outlet}. All rights reserved. Privacy policy.</p></footer>
</body></html>"""


def rss_xml(stories: list[Story], base: str, outlet: str = "Harbour Herald") -> str:
    """An RSS 2.0 feed with one-line summaries: the pages must be fetched."""
    items = "".join(
        f"""<item><title>{html.escape(s.title)}</title><link>{base}{s.path}</link>
<guid>{base}{s.path}</guid>
<pubDate>{email.utils.format_datetime(_noon(s.date))}</pubDate>
<description>{html.escape(s.paragraphs[0][:80])}</description></item>
"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{outlet}</title><link>{base}/</link>
<description>News from Tallowmere</description>
{items}</channel></rss>"""


def atom_xml(stories: list[Story], base: str) -> str:
    """An Atom feed carrying each entry's full text: no page needs fetching."""
    entries = "".join(
        f"""<entry><title>{html.escape(s.title)}</title>
<link href="{base}/atom-only{s.path}"/><id>urn:tallowmere:{s.slug}</id>
<updated>{s.date}T09:00:00Z</updated><author><name>{html.escape(s.author)}</name></author>
<content type="html">{html.escape("".join(f"<p>{p}</p>" for p in s.paragraphs))}</content>
</entry>
"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Tallowmere Science</title>
<id>urn:tallowmere:science</id><updated>2024-03-16T09:00:00Z</updated>
{entries}</feed>"""


def _noon(day: str) -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)


@dataclass
class Request:
    """One request the site received."""

    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class NewsSite:
    """State shared with the handler: the feed's stories, requests seen, in-flight peak."""

    rss_stories: list[Story] = field(default_factory=lambda: list(STORIES))
    coast_stories: list[Story] = field(default_factory=list)  # /feeds/coast.xml, another outlet
    huge_bytes: int = 300_000
    slow_s: float = 0.0
    robots_status: int = 200
    requests: list[Request] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0
    flaky_left: int = 2
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]

    def requests_for(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def publish(self, story: Story) -> None:
        """Put a new story at the top of its outlet's RSS feed."""
        with self.lock:
            feed = self.rss_stories if story.outlet == "Harbour Herald" else self.coast_stories
            feed.insert(0, story)

    def route(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a path."""
        with self.lock:
            published = [*self.rss_stories, *self.coast_stories]
        pages = {s.path: s for s in [*STORIES, FRESH, MARKET, *published]}
        if path in pages:
            return (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                page_html(pages[path]).encode(),
            )
        if path == "/robots.txt":
            if self.robots_status != 200:
                return self.robots_status, {"Content-Type": "text/plain"}, b"unavailable"
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        if path.startswith("/private/"):
            return 200, {"Content-Type": "text/html"}, page_html(STORIES[0]).encode()
        if path == "/feeds/rss.xml":
            return self._rss(headers)
        if path == "/feeds/coast.xml":
            with self.lock:
                body = rss_xml(list(self.coast_stories), self.base, "Coast Courier").encode()
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, body
        if path == "/feeds/atom.xml":
            body = atom_xml(ATOM_STORIES, self.base).encode()
            return 200, {"Content-Type": "application/atom+xml"}, body
        if path == "/feeds/broken.xml":
            return 200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><item>oops"
        if path == "/loop/a":
            return 302, {"Location": "/loop/b"}, b""
        if path == "/loop/b":
            return 302, {"Location": f"{self.base}/loop/a"}, b""
        if path == "/nowhere":
            return 302, {"Content-Type": "text/html"}, b"<html><body>Moved</body></html>"
        if path == "/moved":
            return 301, {"Location": STORIES[1].path}, b""
        if path == "/huge.html":
            filler = b"<p>" + b"lorem ipsum dolor sit amet " * 40 + b"</p>\n"
            body = b"<html><body><article>" + filler * (self.huge_bytes // len(filler) + 1)
            return 200, {"Content-Type": "text/html"}, body + b"</article></body></html>"
        if path == "/huge-stream.html":  # no Content-Length: the cap must cut the stream
            filler = b"<p>" + b"lorem ipsum dolor sit amet " * 40 + b"</p>\n"
            return 200, {"Content-Type": "text/html", "X-No-Length": "1"}, filler * 400
        if path == "/slow.html":
            time.sleep(1.0)
            return 200, {"Content-Type": "text/html"}, page_html(STORIES[0]).encode()
        if path == "/drip.html":  # each piece in time, the whole far too slowly
            return 200, {"Content-Type": "text/html", "X-Drip": "0.1"}, b"<p>drip</p>" * 20
        if path == "/report.pdf":
            return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        if path == "/empty.html":
            links = "".join(f'<a href="/s/{w}">{w}</a> ' for w in NAV.split())
            return (
                200,
                {"Content-Type": "text/html"},
                f"<html><body><nav>{links}</nav></body></html>".encode(),
            )
        if path == "/home.html":  # a front page: no article, but it announces its feed
            links = "".join(f'<a href="/s/{w}">{w}</a> ' for w in NAV.split())
            feed = '<link rel="alternate" type="application/rss+xml" href="feeds/rss.xml">'
            return (
                200,
                {"Content-Type": "text/html"},
                f"<html><head>{feed}</head><body><nav>{links}</nav></body></html>".encode(),
            )
        if path == "/flaky.html":
            with self.lock:
                self.flaky_left -= 1
                failing = self.flaky_left >= 0
            if failing:
                return 503, {"Content-Type": "text/plain"}, b"busy"
            return 200, {"Content-Type": "text/html"}, page_html(STORIES[1]).encode()
        return 404, {"Content-Type": "text/html"}, b"<html><body><h1>Not found</h1></body></html>"

    def _rss(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            stories = list(self.rss_stories)
        body = rss_xml(stories, self.base).encode()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = email.utils.format_datetime(_noon(max(s.date for s in stories)), usegmt=True)
        validators = {"ETag": etag, "Last-Modified": modified}
        if headers.get("if-none-match") == etag:
            return 304, validators, b""
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8", **validators}, body


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        site = self.server.site
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = Request(self.path, headers)
        with site.lock:
            site.requests.append(record)
            site.in_flight += 1
            site.peak = max(site.peak, site.in_flight)
        try:
            if site.slow_s and self.path.startswith("/news/"):
                time.sleep(site.slow_s)
            status, extra, body = site.route(self.path, headers)
            record.status = status
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            if "X-No-Length" in extra:  # the body ends when the connection closes
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if "X-Drip" in extra:
                for i in range(0, len(body), 11):
                    self.wfile.write(body[i : i + 11])
                    self.wfile.flush()
                    time.sleep(float(extra["X-Drip"]))
            elif status != 304:
                self.wfile.write(body)
        finally:
            with site.lock:
                site.in_flight -= 1

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: NewsSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up early (the size cap does that on purpose)."""


@contextmanager
def serve(site: NewsSite) -> Iterator[NewsSite]:
    """Serve the site on a free port of 127.0.0.1 until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = site
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="news-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
