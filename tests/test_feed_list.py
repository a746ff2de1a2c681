"""The feed list in the shared database, on SQLite and on a real PostgreSQL cluster.

Two data directories stand for two hosts: with one Postgres `state` they see one list
through `newsbot feeds`, whatever each followed before. A `feeds.json` of an older
version merges in once, seen keys and all; seen keys written by two refreshes at once
are all kept.
"""

import json
from pathlib import Path

import pytest
import yaml
from harness.newsbot import run_newsbot
from harness.postgres import PostgresCluster

from index.web.feed_list import MAX_SEEN, FeedList


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh shared database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite'}"
    return str(request.getfixturevalue("postgres").new_database())


def old_file(data_dir: Path, *feeds: tuple[int, str, list[str]]) -> Path:
    """A feeds.json as older versions wrote it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "feeds.json"
    entries = [
        {
            "id": i,
            "url": u,
            "title": f"Feed {u.split('/')[2].split('.')[0]}",
            "added": "2026-11-01T07:00:00+00:00",
            "etag": '"v1"',
            "seen": seen,
        }
        for i, u, seen in feeds
    ]
    path.write_text(json.dumps({"feeds": entries}))
    return path


def host(root: Path, name: str, state: str | None) -> list[str]:
    """The `--config` arguments of a host with its own data directory."""
    config = root / f"{name}.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(root / name), "state": state}))
    return ["--config", str(config)]


def test_an_old_feeds_file_is_imported_once_by_the_cli(tmp_path: Path) -> None:
    path = old_file(tmp_path / "data", (1, "http://a.example/rss", ["k1", "k2"]))
    data = ["--data-dir", str(tmp_path / "data")]
    first = run_newsbot("feeds", "list", *data, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["1  Feed a  http://a.example/rss (2 seen)", "1 feeds"]
    assert not path.exists() and path.with_name("feeds.json.imported").exists()
    again = run_newsbot("feeds", "list", *data, cwd=tmp_path)
    assert again.stdout == first.stdout
    assert (tmp_path / "data" / "telegram-state.sqlite").is_file()  # the bot's database


def test_two_hosts_on_postgres_share_one_list_and_merge_their_old_files(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    old_file(tmp_path / "a", (1, "http://x.example/rss", ["x1"]))
    old_file(
        tmp_path / "b", (1, "http://y.example/rss", ["y1"]), (2, "http://x.example/rss", ["x2"])
    )
    a, b = host(tmp_path, "a", postgres.url), host(tmp_path, "b", postgres.url)
    listed = run_newsbot("feeds", "list", *a, cwd=tmp_path)
    assert listed.stdout.splitlines()[0] == "1  Feed x  http://x.example/rss (1 seen)"
    listed = run_newsbot("feeds", "list", *b, cwd=tmp_path)  # b's file merges in
    assert listed.stdout.splitlines() == [
        "1  Feed x  http://x.example/rss (2 seen)",  # one feed, both hosts' seen keys
        "2  Feed y  http://y.example/rss (1 seen)",  # b's id 1 was taken: the next one
        "2 feeds",
    ]
    removed = run_newsbot("feeds", "remove", "http://y.example/rss", *b, cwd=tmp_path)
    assert removed.stdout.strip() == "unfollowed feed 2: Feed y"
    listed = run_newsbot("feeds", "list", *a, cwd=tmp_path)
    assert listed.stdout.splitlines() == ["1  Feed x  http://x.example/rss (2 seen)", "1 feeds"]
    assert FeedList(postgres.url).find("1").seen == ["x1", "x2"]


def test_seen_keys_of_two_refreshes_are_all_kept(url: str) -> None:
    one, other = FeedList(url), FeedList(url)
    feed, new = one.add("http://z.example/rss", "Zed")
    assert new and other.add("http://z.example/rss", "Zed") == (feed, False)
    before = other.find(str(feed.id))  # both refreshes read the feed...
    one.update(feed.id, lambda f: f.seen.extend(["a", "b"]))
    other.update(feed.id, lambda f: f.seen.extend(["c"]))  # ...and write back what they saw
    assert before.seen == []
    assert one.find(str(feed.id)).seen == ["a", "b", "c"]
    many = [f"e{i}" for i in range(MAX_SEEN + 10)]
    one.update(feed.id, lambda f: f.seen.extend(many))
    assert other.find(str(feed.id)).seen == many[-MAX_SEEN:]  # the newest are kept
