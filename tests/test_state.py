"""The shared bot state on SQLite and on a real PostgreSQL cluster (started by the test).

Migrations run at start, twice without harm and from several processes at once; the
claims that make things happen once (updates, leases, alerts, outbox, rate limits) hold
between two independent connections, as between two replicas.
"""

import asyncio
import datetime as dt
import json
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
from harness.postgres import PostgresCluster
from sqlalchemy import inspect, text
from telegram import Chat, Message, Update

from bot.state import StateStore, Subscriptions, default_url, open_database, tables
from bot.state.budget import SendBudget
from bot.telegram.ordering import ChatOrderedProcessor
from index.errors import DataDirError


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh state database URL on each backend."""
    if request.param == "sqlite":
        return default_url(tmp_path / "state.sqlite")
    return request.getfixturevalue("postgres").new_database()


def _migrate(url: str) -> list[str]:
    engine = open_database(url)
    names = sorted(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_migrations_create_every_table_and_run_again_harmlessly(url: str) -> None:
    with multiprocessing.get_context("spawn").Pool(3) as pool:  # replicas starting at once
        results = pool.map(_migrate, [url] * 3)
    expected = sorted([*tables.metadata.tables, "alembic_version"])
    assert results == [expected] * 3
    engine = open_database(url)  # and once more, later
    found = inspect(engine)
    for table in tables.metadata.sorted_tables:
        assert {c.name for c in table.columns} == {c["name"] for c in found.get_columns(table.name)}
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0003"
    engine.dispose()


def test_claims_hold_between_two_connections(url: str) -> None:
    one, two = StateStore(open_database(url)), StateStore(open_database(url))
    try:
        assert one.take_update(7, 1001) and not two.take_update(7, 1001)
        assert two.take_update(7, 1002) and two.take_update(8, 1001)  # ids count per bot
        assert one.take_lease("chat:5", "a", 60.0)
        assert not two.take_lease("chat:5", "b", 60.0)
        assert one.take_lease("chat:5", "a", 60.0)  # a holder renews its own lease
        one.free_lease("chat:5", "a")
        assert two.take_lease("chat:5", "b", 0.01)
        time.sleep(0.05)
        assert one.take_lease("chat:5", "a", 60.0)  # an expired lease is free
        taken = [s.take_question(42, 3, now=1000.0 + i) for i, s in enumerate([one, two] * 2)]
        assert taken == [True, True, True, False]
        assert two.take_question(42, 3, now=1060.5)
    finally:
        one.close()
        two.close()


def test_each_alert_is_claimed_once_and_goes_through_the_outbox(url: str) -> None:
    one = Subscriptions(StateStore(open_database(url)))
    two = Subscriptions(StateStore(open_database(url)))
    try:
        html = {"a1": "<b>one</b>", "a2": "<b>two</b>"}
        assert one.claim_alerts(7, ["a1", "a2"], html) == {"a1", "a2"}
        assert two.claim_alerts(7, ["a1", "a2"], html) == set()  # the other planner
        assert two.claim_alerts(8, ["a1"], {"a1": "<b>one</b>"}) == {"a1"}  # another chat
        taken = one.take_outgoing()
        assert sorted((o.chat_id, o.article_id) for o in taken) == [(7, "a1"), (7, "a2"), (8, "a1")]
        assert two.take_outgoing() == []  # being sent by the first sender
        first = next(o for o in taken if o.chat_id == 8)
        assert one.failed(first, 5.0) == 5.0  # tried again after the first wait
        for outgoing in taken:
            if outgoing is not first:
                one.sent(outgoing)
        assert two.take_outgoing(now=time.time() + 1.0) == []
        again = two.take_outgoing(now=time.time() + 6.0)
        assert [(o.id, o.attempts) for o in again] == [(first.id, 1)]
        one.drop_chat(8)  # a chat that is gone: its unsent alerts are given up
        assert two.take_outgoing(now=time.time() + 1000.0) == []
    finally:
        one.store.close()
        two.store.close()


def test_an_old_state_file_moves_into_postgres_once(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    old_file = tmp_path / "telegram-state.sqlite"
    old = Subscriptions(StateStore(open_database(default_url(old_file))))
    old.store.save_chat(7, {"turns": 1, "answers": {}})
    assert old.add_watch(7, "bird flu", 5) == 1
    old.store.close()
    url = postgres.new_database()
    moved = Subscriptions(StateStore(open_database(url, old_file)))
    assert moved.store.load_chat(7) == {"turns": 1, "answers": {}}
    assert [w.words for w in moved.watches(7)] == ["bird flu"]
    moved.store.save_chat(7, {"turns": 2, "answers": {}})
    moved.store.close()
    again = StateStore(open_database(url, old_file))  # the next start imports nothing
    assert json.dumps(again.load_chat(7)) == json.dumps({"turns": 2, "answers": {}})
    again.close()


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataDirError, match=r"can't open the shared state at .*:1/x"):
        open_database("postgresql://newsbot:secret@127.0.0.1:1/x")
    with pytest.raises(DataDirError, match="is not a usable database URL"):
        open_database("nonsense://")
    with pytest.raises(DataDirError, match=r"\(mysql is not supported\); use sqlite:///PATH or"):
        open_database("mysql://newsbot@127.0.0.1/x")


def _update(chat_id: int, update_id: int) -> Update:
    chat = Chat(chat_id, Chat.GROUP)
    return Update(update_id, message=Message(update_id, dt.datetime.now(dt.UTC), chat, text="q"))


def test_two_replicas_run_one_chat_one_update_at_a_time_and_each_update_once(url: str) -> None:
    """Two processors on one database, as two replicas: a chat's updates never overlap."""
    one = ChatOrderedProcessor(StateStore(open_database(url)))
    two = ChatOrderedProcessor(StateStore(open_database(url)))
    events: list[str] = []

    async def work(name: str) -> None:
        events.append(f"{name} start")
        await asyncio.sleep(0.2)  # long enough for the other replica to try the chat
        events.append(f"{name} end")

    async def main() -> None:
        await asyncio.gather(
            one.process_update(_update(-9, 1), work("u1")),
            two.process_update(_update(-9, 2), work("u2")),
            two.process_update(_update(-9, 1), work("u1 again")),  # a retried delivery
        )

    asyncio.run(main())
    starts = [e.removesuffix(" start") for e in events if e.endswith("start")]
    assert len(starts) == 2 and "u2" in starts  # update 1 ran once, on either replica
    assert events == [
        f"{starts[0]} start",
        f"{starts[0]} end",
        f"{starts[1]} start",
        f"{starts[1]} end",
    ]  # one finished before the other began
    one.state.close()
    two.state.close()


def test_the_send_budget_is_shared_by_two_connections(url: str) -> None:
    one, two = StateStore(open_database(url)), StateStore(open_database(url))
    a, b = SendBudget(one, "sends", 2.0, 2.0), SendBudget(two, "sends", 2.0, 2.0)
    try:
        assert [a.take(100.0), b.take(100.0)] == [0.0, 0.0]  # the two saved-up tokens
        assert b.take(100.0) == pytest.approx(0.5)  # empty for both: wait for the refill
        assert a.take(100.25) == pytest.approx(0.25)
        assert a.take(100.5) == 0.0 and b.take(100.5) == pytest.approx(0.5)
        assert b.take(200.0) == 0.0 and a.take(200.0) == 0.0 and a.take(200.0) > 0.0
    finally:
        one.close()
        two.close()


OLD_SCHEMA = """
CREATE TABLE chats (chat_id INTEGER PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE questions (user_id INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX questions_by_user ON questions (user_id, at);
CREATE TABLE watches (
    chat_id INTEGER NOT NULL, number INTEGER NOT NULL, words TEXT NOT NULL,
    vector BLOB, model TEXT, created REAL NOT NULL, PRIMARY KEY (chat_id, number));
CREATE TABLE alerted (
    chat_id INTEGER NOT NULL, article_id TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (chat_id, article_id));
CREATE TABLE digests (
    chat_id INTEGER PRIMARY KEY, daily TEXT, due REAL, last_sent REAL,
    page_since REAL, page_until REAL, page_shown INTEGER);
INSERT INTO chats VALUES (7, '{"turns": 3, "answers": {}}');
INSERT INTO watches VALUES (7, 1, 'bird flu', NULL, NULL, 1000.0);
INSERT INTO alerted VALUES (7, 'a1', CAST(strftime('%s', 'now') AS REAL));
"""


def test_a_state_file_of_the_version_before_migrations_is_taken_over(tmp_path: Path) -> None:
    """The file the SQLite-only bot wrote (its schema as it was) migrates in place."""
    old_file = tmp_path / "telegram-state.sqlite"
    with sqlite3.connect(old_file) as connection:
        connection.executescript(OLD_SCHEMA)
    follows = Subscriptions(StateStore(open_database(default_url(old_file))))
    try:
        assert follows.store.load_chat(7) == {"turns": 3, "answers": {}}
        assert [(w.number, w.words) for w in follows.watches(7)] == [(1, "bird flu")]
        assert follows.claim_alerts(7, ["a1", "a2"]) == {"a2"}  # a1 was alerted before
        assert follows.add_watch(7, "harbour", 5) == 2
    finally:
        follows.store.close()
