"""Feeds across replicas: one feed list, one leader refreshing it, and a leader's death.

Two `newsbot telegram --webhook` replicas (harness/replicas.py) share a real Chroma
server and a real PostgreSQL state; a third "host" is the CLI with its own data
directory. A feed followed with `newsbot feeds follow` is refreshed by the leading
replica, and `/add` and `/feeds` on the bot and `newsbot feeds` see one list. Then the
leader is killed (SIGKILL) while it fetches new entries from a news site that is slow
to answer: the other replica takes the leader's lease (within LEASE_S), completes the
round, and each watching chat gets each new story's alert exactly once: the chat whose
watch was set through the replica that died, and the one set through the survivor.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness.chroma_server import ChromaServer
from harness.emulator_client import TelegramEmulator, free_port
from harness.news_server import FRESH, MARKET, NewsSite, Story, serve
from harness.newsbot import replies_to, run_newsbot
from harness.postgres import PostgresCluster
from harness.replicas import Replica, RoundRobin, behind_balancer

from bot.telegram.leader import LEASE_S, RENEW_S
from index.web.feed_list import FeedList

ADMIN = 8101
FERRY_FAN = 8102  # /watch electric ferries
MARKET_FAN = 8103  # /watch fish market
ARRIVED = "came in from another ingest; planning their alerts"  # arrivals.py's look
GULLS = Story(
    "gull-census",
    "Gull census counts fewer birds on the breakwater",
    "2024-03-19",
    "Ines Holm",
    (
        "Volunteers counted 412 herring gulls on the Tallowmere breakwater on Sunday, "
        "about a third fewer than at the same census five years ago.",
        "The birdwatching club that runs the count blamed the closure of the old "
        "fish market's open-air stalls.",
    ),
    outlet="Coast Courier",
)


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with serve(NewsSite(coast_stories=[GULLS])) as served:
        yield served


@pytest.fixture(scope="module")
def cli(postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The `--config` of the CLI's host: its own data directory, the shared state."""
    root = tmp_path_factory.mktemp("cli")
    config = root / "config.yaml"
    settings = {"data_dir": str(root / "data"), "state": postgres.url, **TRUSTED}
    config.write_text(yaml.safe_dump(settings))
    return ["--config", str(config)]


TRUSTED = {"fetch": {"allow_private": True, "backoff_s": 0}}


@pytest.fixture(scope="module")
def cluster(
    chroma: ChromaServer,
    postgres: PostgresCluster,
    site: NewsSite,
    cli: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TelegramEmulator, RoundRobin, list[Replica]]]:
    root = tmp_path_factory.mktemp("feed-replicas")
    followed = run_newsbot("feeds", "follow", site.base + "/feeds/rss.xml", *cli, cwd=root)
    assert followed.stdout.startswith("following feed 1: Harbour Herald"), followed.stderr
    store = {
        "backend": "server",
        "host": "127.0.0.1",
        "port": chroma.port,
        "collection": f"feeds-{uuid.uuid4().hex[:8]}",
        "retries": 0,
    }
    configs = {
        root / name: {
            "data_dir": str(root / name),
            "store": store,
            "state": postgres.url,
            "feeds": {"refresh_minutes": 0.05},
            **TRUSTED,
            "telegram": {
                "admin_user_ids": [ADMIN],
                "questions_per_minute": 600,
                "alert_check_s": 0.5,
                "alert_retry_s": 0.5,
            },
        }
        for name in ("a", "b")
    }
    with (
        TelegramEmulator().start(free_port()) as emulator,
        behind_balancer(configs, emulator) as (lb, replicas),
    ):
        yield emulator, lb, replicas


def command(emulator: TelegramEmulator, text: str, user_id: int, final: str = "") -> str:
    """Send a command; the text of the bot's reply once it starts with `final`."""
    sent = emulator.send_command(text, user_id=user_id)
    reply = emulator.wait_for_bot_message(
        user_id,
        lambda m: replies_to(m, sent) and m["text"].startswith(final),
        after_message_id=sent["message_id"],
        timeout=180,
    )
    return str(reply["text"])


def routed_to(lb: RoundRobin, text: str) -> set[int]:
    """The replicas the balancer gave the messages with this text to."""
    return {r for r, update in lb.routed if update.get("message", {}).get("text") == text}


def alerts_about(emulator: TelegramEmulator, chat_id: int, story: Story) -> list[str]:
    return [
        m["text"]
        for m in emulator.bot_messages(chat_id)
        if m["text"].startswith("\U0001f514") and story.title in m["text"]
    ]


def test_the_cli_and_the_bot_share_one_feed_list(cluster: Any, cli: list[str]) -> None:
    emulator, _, _ = cluster
    listed = command(emulator, "/feeds", ADMIN, "Followed feeds")
    assert "1  Harbour Herald" in listed  # followed through the CLI on another host
    site_base = listed.split("  ")[2].split("/feeds/")[0]
    added = command(emulator, f"/add {site_base}/feeds/coast.xml", ADMIN, "Following feed 2")
    assert "1 new entry" in added
    cwd = Path(cli[1]).parent
    assert "2  Coast Courier" in run_newsbot("feeds", "list", *cli, cwd=cwd).stdout
    removed = run_newsbot("feeds", "unfollow", "2", *cli, cwd=cwd)
    assert removed.stdout.strip() == "unfollowed feed 2: Coast Courier", removed.stderr
    assert "Coast Courier" not in command(emulator, "/feeds", ADMIN, "Followed feeds")


def test_a_leader_killed_mid_refresh_is_replaced_and_each_alert_goes_once(
    cluster: Any, site: NewsSite, postgres: PostgresCluster
) -> None:
    emulator, lb, replicas = cluster
    feeds = FeedList(postgres.url)
    emulator.wait_for(
        lambda: len(feeds.find("1").seen) == 2, 180, description="the first round to ingest"
    )
    (leader,) = [r for r in replicas if r.leads()]
    (survivor,) = [r for r in replicas if r is not leader]
    lb.pinned = replicas.index(leader)  # this watch is set through the replica that dies
    try:
        assert command(emulator, "/watch electric ferries", FERRY_FAN).startswith("Watch 1")
        lb.pinned = replicas.index(survivor)
        assert command(emulator, "/watch fish market", MARKET_FAN).startswith("Watch 1")
    finally:
        lb.pinned = None
    assert routed_to(lb, "/watch electric ferries") == {replicas.index(leader)}
    assert routed_to(lb, "/watch fish market") == {replicas.index(survivor)}

    site.slow_s = 8.0  # each article page: the refresh is caught fetching them
    site.publish(FRESH)
    site.publish(MARKET)
    emulator.wait_for(
        lambda: any(p in site.paths() for p in (FRESH.path, MARKET.path)),
        60,
        description="the leader to fetch a new entry",
    )
    leader.kill()

    def survivor_log() -> str:
        return survivor.log_file.read_text()

    arrived, killed_at = survivor_log().count(ARRIVED), len(survivor_log())
    site.slow_s = 0.0
    emulator.wait_for(survivor.leads, LEASE_S + 2 * RENEW_S, description="a new leader")

    for chat, story in ((FERRY_FAN, FRESH), (MARKET_FAN, MARKET)):
        emulator.wait_for(
            lambda chat=chat, story=story: alerts_about(emulator, chat, story),
            120,
            description=f"the alert about {story.title}",
        )

    # Once the survivor's look for other ingests has found the new articles too (they
    # are SETTLE_S old by then), nothing else can alert them: each went out once.
    emulator.wait_for(
        lambda: survivor_log().count(ARRIVED) > arrived, 120, description="the arrivals look"
    )
    assert len(alerts_about(emulator, FERRY_FAN, FRESH)) == 1
    assert len(alerts_about(emulator, MARKET_FAN, MARKET)) == 1
    assert len(feeds.find("1").seen) == 4  # the round is recorded as done, once
    # The survivor's own round found them (how many it counts as new depends on how far
    # the dead leader got: an entry it ingested without recording is "unchanged").
    assert re.search(
        r"scheduled feed refresh: 1 feed checked, [12] new entr", survivor_log()[killed_at:]
    ), survivor_log()[killed_at:][-3000:]
