"""News sources over real HTTP: pages, feeds, fetching rules and the SSRF guard.

A small news site (news_server.py) runs on 127.0.0.1 for the module; tests turn the
SSRF guard off (`fetch.allow_private`) to reach it, except where the guard is tested.
Ingest uses the real packaged embedding model and a real Chroma in tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.news_server import AD, ATOM_STORIES, COMMENT, FRESH, NAV, STORIES, NewsSite, serve
from harness.newsbot import run_newsbot

from bot.cli.durations import parse_duration
from bot.config import Settings, load_settings
from bot.service import AnsweringService
from index.errors import FetchError, NewsbotError, UnsafeURLError
from index.settings import FetchSettings
from index.web.feed_list import FeedList, feed_list
from index.web.feeds import looks_like_feed, parse_feed
from index.web.fetch import Fetcher, Page
from index.web.following import add_source, fetch_urls, refresh_feeds
from index.web.guard import check_scheme, check_url, is_public
from index.web.pages import fetch_article

TRUSTED = FetchSettings(allow_private=True, backoff_s=0.0, max_page_mb=0.1)


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with serve(NewsSite()) as served:
        yield served


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    """Settings that may reach 127.0.0.1, with no backoff and a 100 kB page cap."""
    return load_settings(data_dir=tmp_path / "data").model_copy(update={"fetch": TRUSTED})


def test_page_extraction_keeps_the_story_and_drops_the_rest(site: NewsSite) -> None:
    story = STORIES[0]
    with Fetcher(TRUSTED) as fetcher:
        article = fetch_article(fetcher, site.base + story.path)
    assert article.title == story.title
    assert article.date == "2024-03-12"
    assert article.author == story.author
    assert article.source == "Harbour Herald"
    assert article.url == article.origin == site.base + story.path
    for paragraph in story.paragraphs:
        assert paragraph in article.text
    for clutter in (NAV, AD, COMMENT, "Copyright Harbour Herald"):
        assert clutter not in article.text
    assert "Subscribe" not in article.text and "Glitterphone" not in article.text
    user_agents = {r.headers.get("user-agent", "") for r in site.requests}
    assert user_agents and all(ua.startswith("newsbot/") for ua in user_agents)


def test_each_bad_url_gets_one_line_and_the_batch_goes_on(
    site: NewsSite, web_settings: Settings
) -> None:
    from harness.news_server import serve as _serve  # a second site, stopped: an unreachable host

    with _serve(NewsSite()) as gone:
        unreachable = gone.base + "/news.html"
    urls = {
        "/missing": "HTTP 404 Not Found",
        "/loop/a": "redirect loop",
        "/nowhere": "HTTP 302 redirect without a Location header",
        "/huge.html": "too large (0.3 MB, over 0.1 MB)",
        "/huge-stream.html": "too large (over 0.1 MB; raise fetch.max_page_mb)",
        "/report.pdf": "not an HTML page (application/pdf)",
        "/empty.html": "no article text found in the page",
        "/private/story.html": "robots.txt disallows",
    }
    good = site.base + STORIES[1].path
    articles, problems = fetch_urls(
        web_settings, [site.base + path for path in urls] + [unreachable, good]
    )
    assert [a.title for a in articles] == [STORIES[1].title]
    reasons = {p.location.removeprefix(site.base): p.reason for p in problems}
    for path, expected in urls.items():
        assert expected in reasons[path]
    assert "can't connect" in reasons[unreachable]
    assert all("\n" not in p.reason and "Traceback" not in p.reason for p in problems)


def test_5xx_is_retried_and_redirects_are_followed(site: NewsSite) -> None:
    with Fetcher(TRUSTED) as fetcher:
        flaky = fetch_article(fetcher, site.base + "/flaky.html")
        moved = fetch_article(fetcher, site.base + "/moved")
    assert flaky.title == moved.title == STORIES[1].title
    assert [r.status for r in site.requests_for("/flaky.html")] == [503, 503, 200]
    assert moved.url == site.base + STORIES[1].path  # the page's final address


def test_robots_txt_can_be_ignored_when_configured(site: NewsSite) -> None:
    with Fetcher(TRUSTED.model_copy(update={"respect_robots": False})) as fetcher:
        assert fetch_article(fetcher, site.base + "/private/story.html").title
    assert "/robots.txt" not in site.paths()


def test_a_failing_robots_txt_disallows_the_site_and_a_missing_one_allows_it(
    site: NewsSite,
) -> None:
    site.robots_status = 503
    with Fetcher(TRUSTED) as fetcher, pytest.raises(FetchError, match=r"^robots\.txt disallows"):
        fetcher.get(site.base + STORIES[0].path)
    assert site.paths() == ["/robots.txt"] * 3  # retried like any 5xx, then given up
    site.robots_status = 404
    with Fetcher(TRUSTED) as fetcher:
        assert fetch_article(fetcher, site.base + STORIES[0].path).title == STORIES[0].title


def test_timeouts_are_retried_then_reported(site: NewsSite) -> None:
    settings = TRUSTED.model_copy(update={"timeout_s": 0.2, "retries": 2})
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=r"^timed out after 0\.2s$"):
        fetcher.get(site.base + "/slow.html")
    assert len(site.requests_for("/slow.html")) == 3


def test_a_body_that_trickles_in_is_abandoned_at_the_timeout(site: NewsSite) -> None:
    settings = TRUSTED.model_copy(update={"timeout_s": 0.5, "retries": 0})
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=r"^timed out after 0\.5s$"):
        fetcher.get(site.base + "/drip.html")  # 20 pieces 0.1 s apart: 2 s in all


def test_no_more_than_the_per_host_limit_at_once(site: NewsSite) -> None:
    site.slow_s = 0.2
    settings = TRUSTED.model_copy(update={"per_host_requests": 2, "workers": 6})
    urls = [f"{site.base}{STORIES[i % 2].path}?n={i}" for i in range(6)]
    with Fetcher(settings) as fetcher:
        from index.web.pages import fetch_articles

        results = list(fetch_articles(fetcher, urls))
    assert len(results) == 6 and all(not isinstance(r, str) for r in results)
    assert site.peak == 2


def test_ssrf_guard_refuses_the_local_server_unless_turned_off(site: NewsSite) -> None:
    url = site.base + STORIES[0].path
    guarded = FetchSettings(backoff_s=0.0)
    with Fetcher(guarded) as fetcher, pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1"):
        fetcher.get(url)
    assert site.requests == []  # refused before any request was sent
    with Fetcher(guarded.model_copy(update={"allow_private": True})) as fetcher:
        assert fetch_article(fetcher, url).title == STORIES[0].title
    with pytest.raises(UnsafeURLError, match="only http and https"):
        check_url("file:///etc/passwd", allow_private=True)
    for private in (
        *("10.1.2.3", "192.168.0.1", "169.254.169.254", "0.0.0.0", "100.64.0.1"),
        *("::1", "::", "fe80::1%eth0", "fd00::1", "::ffff:127.0.0.1", "2002:7f00:1::"),
    ):
        assert not is_public(private), private
    assert is_public("93.184.216.34") and is_public("2002:5db8:d822::")
    # the name resolved is the one httpx connects to (IDNA 2008), not Python's idna codec's
    assert check_scheme("http://straße.example/") == "xn--strae-oqa.example"


def test_ssrf_guard_checks_every_redirect_hop(
    site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only 127.0.0.1 is reachable here, so the fetcher trusts private addresses and the
    # guard is applied for real from the second hop on: the redirect target is refused.
    from index.web import guard

    seen: list[str] = []

    def guard_after_first_hop(url: str, allow_private: bool) -> None:
        seen.append(url)
        guard.check_url(url, allow_private=len(seen) == 1)

    monkeypatch.setattr("index.web.fetch.check_url", guard_after_first_hop)
    with Fetcher(TRUSTED) as fetcher, pytest.raises(UnsafeURLError):
        fetcher.get(site.base + "/moved")
    assert seen == [site.base + "/moved", site.base + STORIES[1].path]
    assert site.paths() == ["/robots.txt", "/moved"]  # the target was never requested


def test_a_name_that_resolves_privately_only_at_connect_time_is_refused(
    site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the name looked public when checked, then led to 127.0.0.1.
    monkeypatch.setattr("index.web.fetch.check_url", lambda url, allow_private: None)
    monkeypatch.setenv("NO_PROXY", "intranet.example")  # names no proxy: still checked
    with (
        Fetcher(FetchSettings(backoff_s=0.0, respect_robots=False)) as fetcher,
        pytest.raises(UnsafeURLError, match=r"connected to the private address 127\.0\.0\.1"),
    ):
        fetcher.get(site.base + STORIES[0].path)


def test_feed_refresh_is_incremental_and_conditional(
    site: NewsSite, web_settings: Settings
) -> None:
    feeds = feed_list(web_settings)
    rss, _ = feeds.add(site.base + "/feeds/rss.xml", "")
    first = refresh_feeds(web_settings)
    assert first.entries == 2 and first.ingest and first.ingest.new == 2
    assert not first.problems
    assert feeds.find(str(rss.id)).title == "Harbour Herald"

    second = refresh_feeds(web_settings)  # unchanged feed: 304, nothing fetched
    assert second.not_modified == 1 and second.entries == 0 and second.ingest is None
    conditional = site.requests_for("/feeds/rss.xml")[-1]
    assert conditional.headers.get("if-none-match") and conditional.status == 304
    assert conditional.headers.get("if-modified-since")

    site.publish(FRESH)
    pages_before = len(site.requests_for(STORIES[0].path))
    third = refresh_feeds(web_settings)
    assert third.entries == 1 and third.ingest and third.ingest.new == 1
    assert site.requests_for(FRESH.path) and len(site.requests_for(STORIES[0].path)) == (
        pages_before
    )  # only the new entry's page was fetched

    service = AnsweringService.open(web_settings)
    answer = service.ask("How long does the Glowworm ferry take to charge its batteries?")
    assert "eleven minutes" in answer.text
    assert answer.citations[0].url == site.base + FRESH.path
    assert answer.citations[0].date and answer.citations[0].date.startswith("2024-03-20")


def test_a_long_backlog_is_ingested_over_several_refreshes(
    site: NewsSite, web_settings: Settings
) -> None:
    settings = web_settings.model_copy(
        update={"feeds": web_settings.feeds.model_copy(update={"max_entries": 1})}
    )
    feed_list(settings).add(site.base + "/feeds/rss.xml", "")
    assert [refresh_feeds(settings).entries for _ in range(3)] == [1, 1, 0]
    assert [r.status for r in site.requests_for("/feeds/rss.xml")] == [200, 200, 304]


def test_full_text_entries_are_not_fetched_and_bad_feeds_are_reported(
    site: NewsSite, web_settings: Settings
) -> None:
    feeds = feed_list(web_settings)
    feeds.add(site.base + "/feeds/atom.xml", "")
    feeds.add(site.base + "/feeds/broken.xml", "")
    feeds.add(site.base + "/missing", "")
    report = refresh_feeds(web_settings)
    assert report.entries == 1 and report.ingest and report.ingest.new == 1
    assert not any(path.startswith("/atom-only/") for path in site.paths())
    reasons = {p.location.removeprefix(site.base): p.reason for p in report.problems}
    assert "malformed feed" in reasons["/feeds/broken.xml"]
    assert reasons["/missing"] == "HTTP 404 Not Found"
    stored = AnsweringService.open(web_settings).articles()
    assert [(a.title, (a.date or "")[:10]) for a in stored] == [
        (ATOM_STORIES[0].title, "2024-03-16")
    ]


def test_a_feed_body_naming_a_local_file_is_not_read_from_disk(tmp_path: Path) -> None:
    local = tmp_path / "local.xml"
    local.write_text(
        "<rss version='2.0'><channel><title>Local</title>"
        "<item><link>http://example.org/a</link></item></channel></rss>"
    )
    with pytest.raises(FetchError, match="malformed feed"):
        parse_feed(str(local).encode())


def test_an_xhtml_page_with_an_xml_declaration_is_a_page_not_a_feed() -> None:
    xhtml = b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
    assert not looks_like_feed(Page("http://example.org/a", 200, "application/xhtml+xml", xhtml))
    rss = b'<?xml version="1.0"?>\n<rss version="2.0"><channel></channel></rss>'
    assert looks_like_feed(Page("http://example.org/f", 200, "", rss))


def test_add_source_detects_pages_and_feeds(site: NewsSite, web_settings: Settings) -> None:
    page = add_source(web_settings, site.base + STORIES[0].path)
    assert page.feed is None and page.changed and "Harbour bridge reopens" in page.message
    feed = add_source(web_settings, site.base + "/feeds/rss.xml")
    assert feed.feed is not None and feed.feed.title == "Harbour Herald"
    assert feed.refresh and feed.refresh.entries == 2
    assert feed.refresh.ingest and feed.refresh.ingest.unchanged == 1  # the page added above
    again = add_source(web_settings, site.base + "/feeds/rss.xml")
    assert again.message.startswith("Already following feed 1")
    with pytest.raises(FetchError, match="HTTP 404"):
        add_source(web_settings, site.base + "/missing")


def test_a_front_page_is_followed_through_the_feed_it_announces(
    site: NewsSite, web_settings: Settings
) -> None:
    home = site.base + "/home.html"
    added = add_source(web_settings, home)
    assert added.feed is not None and added.feed.url == site.base + "/feeds/rss.xml"
    assert added.message.startswith("Following feed")
    with pytest.raises(FetchError, match="no article text"):
        add_source(web_settings, site.base + "/empty.html")  # no article, no feed


def test_a_damaged_feed_list_is_a_one_line_error(tmp_path: Path) -> None:
    for content in ('{"feeds": [{"url": "http://example.org/f"}]}', "[1]", "{"):
        (tmp_path / "feeds.json").write_text(content)
        with pytest.raises(NewsbotError, match="can't read the feed list"):
            FeedList(f"sqlite:///{tmp_path}/state.sqlite", tmp_path).feeds()


def test_durations() -> None:
    assert parse_duration("30m") == 1800 and parse_duration("1h30m") == 5400
    assert parse_duration("90s") == 90 and parse_duration("0.5h") == 1800
    for bad in ("", "soon", "30", "5x", "0m"):
        with pytest.raises(NewsbotError):
            parse_duration(bad)


def test_cli_ingests_urls_and_paths_and_manages_feeds(site: NewsSite, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("Local note\n\nThe ferry timetable changes in May.\n")
    trusted = {"NEWSBOT_FETCH__ALLOW_PRIVATE": "true", "NEWSBOT_FETCH__BACKOFF_S": "0"}
    data = ["--data-dir", str(tmp_path / "data")]
    story = site.base + STORIES[0].path
    result = run_newsbot(
        "ingest", story, site.base + "/missing", "note.txt", *data, cwd=tmp_path, env=trusted
    )
    assert result.returncode == 1, result.stderr
    assert f"skipped {site.base}/missing: HTTP 404 Not Found" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("2 new, 0 updated, 0 unchanged")

    guarded = run_newsbot("ingest", story, *data, cwd=tmp_path)
    assert guarded.returncode == 1
    assert f"skipped {story}: 127.0.0.1 resolves to the private or local address" in (
        guarded.stderr
    )

    added = run_newsbot(  # the front page, which announces the feed
        "feeds", "follow", site.base + "/home.html", *data, cwd=tmp_path, env=trusted
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "following feed 1: Harbour Herald (2 entries)"
    again = run_newsbot(
        "feeds", "add", site.base + "/feeds/rss.xml", *data, cwd=tmp_path, env=trusted
    )
    assert again.stdout.strip() == "already following feed 1: Harbour Herald (2 entries)"
    refreshed = run_newsbot("feeds", "refresh", *data, cwd=tmp_path, env=trusted)
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.stdout.startswith(
        "1 feed checked, 2 new entries: 1 new, 0 updated, 1 unchanged"
    )
    listed = run_newsbot("feeds", "list", *data, cwd=tmp_path)
    assert listed.stdout.startswith(f"1  Harbour Herald  {site.base}/feeds/rss.xml (2 seen")
    bad_every = run_newsbot("feeds", "refresh", "--every", "soon", *data, cwd=tmp_path)
    assert bad_every.returncode == 1 and "can't read the interval 'soon'" in bad_every.stderr
    removed = run_newsbot("feeds", "unfollow", "1", *data, cwd=tmp_path)
    assert removed.stdout.strip() == "unfollowed feed 1: Harbour Herald"
    missing = run_newsbot("feeds", "remove", "1", *data, cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("newsbot: no feed '1'")
