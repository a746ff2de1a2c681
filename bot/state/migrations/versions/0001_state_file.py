"""The tables of the original state file: chats, questions, watches, alerted, digests.

A state file written before migrations existed already has some or all of them, so
only the missing ones are created: that is how an old file migrates on first start.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create whichever of the original tables are missing."""
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "chats" not in present:
        op.create_table(
            "chats",
            sa.Column("chat_id", sa.BigInteger, primary_key=True),
            sa.Column("state", sa.Text, nullable=False),
        )
    if "questions" not in present:
        op.create_table(
            "questions",
            sa.Column("user_id", sa.BigInteger, nullable=False),
            sa.Column("at", sa.Float, nullable=False),
        )
        op.create_index("questions_by_user", "questions", ["user_id", "at"])
    if "watches" not in present:
        op.create_table(
            "watches",
            sa.Column("chat_id", sa.BigInteger, primary_key=True),
            sa.Column("number", sa.Integer, primary_key=True),
            sa.Column("words", sa.Text, nullable=False),
            sa.Column("vector", sa.LargeBinary),
            sa.Column("model", sa.Text),
            sa.Column("created", sa.Float, nullable=False),
        )
    if "alerted" not in present:
        op.create_table(
            "alerted",
            sa.Column("chat_id", sa.BigInteger, primary_key=True),
            sa.Column("article_id", sa.Text, primary_key=True),
            sa.Column("at", sa.Float, nullable=False),
        )
    if "digests" not in present:
        op.create_table(
            "digests",
            sa.Column("chat_id", sa.BigInteger, primary_key=True),
            sa.Column("daily", sa.Text),
            sa.Column("due", sa.Float),
            sa.Column("last_sent", sa.Float),
            sa.Column("page_since", sa.Float),
            sa.Column("page_until", sa.Float),
            sa.Column("page_shown", sa.Integer),
        )
