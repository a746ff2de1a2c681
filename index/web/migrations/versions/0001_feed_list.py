"""The feed list: the followed feeds and the entry keys each has seen (was feeds.json)."""

import sqlalchemy as sa
from alembic import op

revision = "feeds_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the feeds and feed_entries tables."""
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("added", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("refreshed", sa.Text),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "feed_entries",
        sa.Column("feed_id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("seen", sa.Float, nullable=False),
    )
    op.create_index("feed_entries_by_age", "feed_entries", ["feed_id", "seen"])
