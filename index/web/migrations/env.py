"""Alembic's entry point: run the feed list's migrations on the connection passed in.

The index keeps its own migration history (`feed_list_version`) beside the bot's
(`alembic_version`) in the shared database: index/web/feed_list.py migrates it when a
process first opens the feed list, in the transaction that holds the migration lock.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True, version_table="feed_list_version")
with context.begin_transaction():
    context.run_migrations()
