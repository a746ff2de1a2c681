"""Alembic's entry point: run the migrations on the connection `bot.state.database` passes.

There is no alembic.ini: the bot migrates its own database at start (database.py), in
the transaction that holds the migration lock, so two replicas starting at once
migrate one after the other.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
