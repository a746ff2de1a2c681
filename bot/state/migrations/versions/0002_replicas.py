"""What several replicas need: the alert outbox, update claims, leases and marks."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the outbox, updates, leases and marks tables."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("article_id", sa.Text),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due", sa.Float, nullable=False),
        sa.Column("sent", sa.Float),
        sa.Column("failed", sa.Float),
    )
    op.create_index("outbox_due", "outbox", ["sent", "failed", "due"])
    op.create_table(
        "updates",
        sa.Column("bot_id", sa.BigInteger, primary_key=True),
        sa.Column("update_id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("until", sa.Float, nullable=False),
    )
    op.create_table(
        "marks",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
