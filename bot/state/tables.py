"""The tables of the shared bot state, as the migrations leave them (SQLAlchemy Core).

The migrations (migrations/versions/) create and change these tables; this module only
describes them for queries, so the two must agree (tests/test_state.py checks that a
migrated database has every table and column named here).
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("state", Text, nullable=False),
)

questions = Table(
    "questions",
    metadata,
    Column("user_id", BigInteger, nullable=False),
    Column("at", Float, nullable=False),
    Index("questions_by_user", "user_id", "at"),
)

watches = Table(
    "watches",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("words", Text, nullable=False),
    Column("vector", LargeBinary),
    Column("model", Text),
    Column("created", Float, nullable=False),
)

# one row per (chat, article) ever planned as an alert: the claim that makes it at most once
alerted = Table(
    "alerted",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("article_id", Text, primary_key=True),
    Column("at", Float, nullable=False),
)

digests = Table(
    "digests",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("daily", Text),
    Column("due", Float),
    Column("last_sent", Float),
    Column("page_since", Float),
    Column("page_until", Float),
    Column("page_shown", Integer),
)

# alert messages waiting to be sent, being sent (`due` moved on by the sender's claim),
# sent (`sent` set) or given up (`failed` set)
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("article_id", Text),
    Column("html", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due", Float, nullable=False),
    Column("sent", Float),
    Column("failed", Float),
    Index("outbox_due", "sent", "failed", "due"),
)

# Telegram update ids (per bot) already taken by a replica: a retried update is answered once
updates = Table(
    "updates",
    metadata,
    Column("bot_id", BigInteger, primary_key=True),
    Column("update_id", BigInteger, primary_key=True),
    Column("at", Float, nullable=False),
)

# named leases: one chat's turn ("chat:ID"), the leader ("leader"); free once `until` passed
leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("until", Float, nullable=False),
)

# small named values: how far alert planning has read the index, the send budget
marks = Table(
    "marks",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("at", Float, nullable=False),
)

# token buckets shared by every replica: Telegram's bot-wide send limit
buckets = Table(
    "buckets",
    metadata,
    Column("name", Text, primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("at", Float, nullable=False),
)
