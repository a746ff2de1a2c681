"""Two `newsbot telegram --webhook` replicas behind a round-robin load balancer, one real
Chroma server, the shared state (one SQLite file, or a real PostgreSQL cluster started
here), and the Telegram emulator delivering updates by webhook with the secret token, as
Telegram does.

A conversation whose turns go to different replicas keeps its follow-up context, a
Sources button works on the other replica, two questions of one group sent at once get
their own answers and their own Sources, an update delivered twice is answered once,
the question limit counts across replicas, updates without the secret are refused, a
daily digest is sent by exactly one replica, and when Chroma goes down the bot says it
is temporarily unavailable, then answers again once Chroma is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy
from harness.chroma_server import ChromaServer
from harness.emulator_client import TelegramEmulator, free_port
from harness.newsbot import SAMPLE
from harness.postgres import PostgresCluster, throwaway_cluster
from harness.replicas import SECRET, Replica, RoundRobin, behind_balancer

from bot.config import load_settings
from bot.state import StateStore, default_url, open_database, tables
from index.ingest.pipeline import ingest_paths

MICHAELI = "Who is Ephraim Michaeli?"
ARMY_RADIO = "What did he tell Army Radio?"
SHALOM = "What did Shalom cite?"
PER_MINUTE = 3


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def postgres(request: pytest.FixtureRequest) -> Iterator[PostgresCluster | None]:
    """A PostgreSQL server for the shared state, or None for a SQLite file."""
    if request.param == "sqlite":
        yield None
        return
    with throwaway_cluster() as server:
        yield server


@pytest.fixture(scope="module")
def state_url(postgres: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shared state: a SQLite file every replica opens, or the PostgreSQL server."""
    if postgres is None:
        return default_url(tmp_path_factory.mktemp("shared") / "state.sqlite")
    return postgres.url


@pytest.fixture(scope="module")
def cluster(
    chroma: ChromaServer, state_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TelegramEmulator, RoundRobin, list[Replica]]]:
    root = tmp_path_factory.mktemp("replicas")
    store = {
        "backend": "server",
        "host": "127.0.0.1",
        "port": chroma.port,
        "collection": f"replicas-{uuid.uuid4().hex[:8]}",
        "retries": 0,
    }
    ingest_paths(load_settings(data_dir=root / "ingest", store=store), [SAMPLE])
    configs = {
        root / name: {
            "data_dir": str(root / name),  # each replica's own local cache
            "store": store,
            "state": state_url,
            "telegram": {"questions_per_minute": PER_MINUTE, "digest_check_s": 0.5},
        }
        for name in ("a", "b")
    }
    with (
        TelegramEmulator().start(free_port()) as emulator,
        behind_balancer(configs, emulator) as (lb, replicas),
    ):
        yield emulator, lb, replicas


def ask(emulator: TelegramEmulator, text: str, user_id: int) -> tuple[dict, dict]:
    """Send a question; return it and the bot's reply to it."""
    sent = emulator.send_message(text, user_id=user_id)
    reply = emulator.wait_for_bot_message(
        user_id,
        lambda m: m.get("reply_to_message", {}).get("message_id") == sent["message_id"],
        after_message_id=sent["message_id"],
        timeout=90,
    )
    return sent, reply


def test_updates_without_the_secret_are_refused(cluster: Any) -> None:
    _, _, replicas = cluster
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi"}}
    for replica in replicas:
        assert replica.post(update, None) == 403
        assert replica.post(update, "wrong-secret") == 403


def test_follow_up_keeps_context_when_turns_go_to_different_replicas(cluster: Any) -> None:
    emulator, lb, _ = cluster
    first, answer = ask(emulator, MICHAELI, 7001)
    assert "Ephraim Michaeli" in answer["text"]
    second, follow_up = ask(emulator, ARMY_RADIO, 7001)
    assert lb.replica_of(first["message_id"]) != lb.replica_of(second["message_id"])
    assert "Russians admire Israel" in follow_up["text"]
    assert "Ephraim Michaeli" in follow_up["text"]  # the first turn, from the other replica

    # The Sources button of an answer given by one replica opens on the other.
    (button,) = [b for row in follow_up["reply_markup"]["inline_keyboard"] for b in row]
    emulator.press_button(7001, follow_up["message_id"], button["callback_data"], user_id=7001)
    pager = emulator.wait_for_bot_message(
        7001, lambda m: m["text"].startswith("Source 1 of"), timeout=60
    )
    assert "Russians admire Israel" in pager["text"]


def test_question_limit_counts_across_replicas(cluster: Any) -> None:
    emulator, lb, _ = cluster
    replies = [ask(emulator, SHALOM, 7101) for _ in range(PER_MINUTE)]
    assert {lb.replica_of(sent["message_id"]) for sent, _ in replies} == {0, 1}
    assert all("Dolphinarium" in reply["text"] for _, reply in replies)
    over = emulator.send_message(SHALOM, user_id=7101)
    slow = emulator.wait_for_bot_message(
        7101, lambda m: "faster than I can answer" in m["text"], after_message_id=over["message_id"]
    )
    assert f"{PER_MINUTE} questions a minute" in slow["text"]


def test_two_questions_of_one_group_at_once_get_their_own_answers_and_sources(
    cluster: Any,
) -> None:
    emulator, lb, _ = cluster
    group = {"chat_id": -7500, "chat_type": "group", "chat_title": "Desk", "mention": True}
    sent = [
        emulator.send_message(MICHAELI, user_id=7501, **group),
        emulator.send_message(SHALOM, user_id=7502, **group),
    ]
    replies = [
        emulator.wait_for_bot_message(
            -7500,
            lambda m, asked=asked: (
                m.get("reply_to_message", {}).get("message_id") == asked["message_id"]
            ),
            timeout=90,
        )
        for asked in sent
    ]
    assert {lb.replica_of(m["message_id"]) for m in sent} == {0, 1}  # both at once, each elsewhere
    assert "Ephraim Michaeli" in replies[0]["text"] and "Dolphinarium" in replies[1]["text"]
    data = [
        b["callback_data"]
        for r in replies
        for row in r["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert len(set(data)) == 2  # each answer's button names that answer
    for reply, button, user, quoted in zip(
        replies, data, (7501, 7502), ("Michaeli", "Dolphinarium"), strict=True
    ):
        mark = max(m["message_id"] for m in emulator.messages(-7500))
        emulator.press_button(-7500, reply["message_id"], button, user_id=user)
        pager = emulator.wait_for_bot_message(
            -7500, lambda m: m["text"].startswith("Source 1 of"), after_message_id=mark, timeout=60
        )
        assert quoted in pager["text"]


def test_an_update_delivered_twice_is_answered_once(cluster: Any) -> None:
    emulator, lb, replicas = cluster
    sent, _ = ask(emulator, SHALOM, 7601)
    (routed,) = [
        (r, u) for r, u in lb.routed if u.get("message", {}).get("message_id") == sent["message_id"]
    ]
    replica, update_sent = routed
    assert replicas[1 - replica].post(update_sent, SECRET) == 200  # Telegram's retry, elsewhere
    ask(emulator, MICHAELI, 7601)  # handled after the retry: the chat's updates run in order
    answers = [
        m
        for m in emulator.bot_messages(7601)
        if m.get("reply_to_message", {}).get("message_id") == sent["message_id"]
    ]
    assert len(answers) == 1
    assert any("was taken before" in r.log_file.read_text() for r in replicas)


def test_a_daily_digest_is_sent_by_exactly_one_replica(cluster: Any, state_url: str) -> None:
    emulator, _, replicas = cluster
    user = 7301
    sent = emulator.send_command("/digest daily 06:00", user_id=user)
    reply = emulator.wait_for_bot_message(user, after_message_id=sent["message_id"], timeout=90)
    assert reply["text"].startswith("Daily digest set for 06:00 (UTC)"), reply["text"]
    state = StateStore(open_database(state_url))
    with state.transaction() as connection:  # the test's clock: the digest falls due now
        connection.execute(
            sqlalchemy.update(tables.digests)
            .where(tables.digests.c.chat_id == user)
            .values(due=time.time())
        )
    state.close()
    digest = emulator.wait_for_bot_message(
        user, lambda m: "since" in m["text"], after_message_id=reply["message_id"], timeout=60
    )
    assert "Russian FM welcomes Israeli cooperation on terror" in digest["text"]

    def log(replica: Replica) -> str:
        return replica.log_file.read_text()

    def checks(replica: Replica) -> int:
        return log(replica).count('Job "due-digests')

    seen = [checks(r) for r in replicas]  # both replicas go on checking for due digests
    emulator.wait_for(
        lambda: all(checks(r) >= n + 3 for r, n in zip(replicas, seen, strict=True)),
        timeout=60,
        description="both replicas to check for due digests again",
    )
    digests = [m for m in emulator.bot_messages(user) if "since" in m["text"]]
    assert [m["message_id"] for m in digests] == [digest["message_id"]]
    senders = [r for r in replicas if "sending chat 7301 its daily digest" in log(r)]
    assert len(senders) == 1


def test_questions_are_answered_while_postgres_restarts(
    cluster: Any, postgres: PostgresCluster | None
) -> None:
    if postgres is None:
        pytest.skip("a SQLite file does not go away")
    emulator, _, replicas = cluster
    ask(emulator, MICHAELI, 7701)
    postgres.stop("immediate")  # as a crash looks to its clients
    try:
        for user in (7701, 7702):  # one update to each replica
            _, reply = ask(emulator, SHALOM, user)
            assert "Dolphinarium" in reply["text"]
    finally:
        postgres.start()
    _, reply = ask(emulator, MICHAELI, 7702)  # and on, once it is back
    assert "Ephraim Michaeli" in reply["text"]
    logs = "".join(r.log_file.read_text() for r in replicas)
    assert "the state is unreachable" in logs
    assert all("Sorry" not in m["text"] for u in (7701, 7702) for m in emulator.bot_messages(u))


def test_chroma_down_is_temporarily_unavailable_then_recovers(
    cluster: Any, chroma: ChromaServer
) -> None:
    emulator, _, _ = cluster
    chroma.kill()
    try:
        for user in (7201, 7202):  # consecutive updates: one to each replica
            _, reply = ask(emulator, SHALOM, user)
            assert "temporarily unavailable" in reply["text"]
    finally:
        chroma.start()
    for user in (7201, 7202):
        _, reply = ask(emulator, SHALOM, user)
        assert "Dolphinarium" in reply["text"]
