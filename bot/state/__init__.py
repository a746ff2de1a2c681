"""The bot's shared state: one database every replica (and the worker) uses.

database.py  open the database from its URL, migrate it (Alembic), import an old file
tables.py    the tables, as the migrations leave them (SQLAlchemy Core)
chats.py     chats' saved state, question counts, updates taken, leases
follows.py   watches, alert claims and the alert outbox
digests.py   daily digest schedules
budget.py    a token bucket every replica shares (Telegram's send limit)
migrations/  the Alembic migrations, run at every start
"""

from bot.state.chats import StateStore
from bot.state.database import default_url, open_database
from bot.state.digests import DigestSchedules, DigestState
from bot.state.follows import Outgoing, Subscriptions, Watch

__all__ = [
    "DigestSchedules",
    "DigestState",
    "Outgoing",
    "StateStore",
    "Subscriptions",
    "Watch",
    "default_url",
    "open_database",
]
