"""One replica leads: it alone refreshes feeds and looks for other ingests' articles.

The leader holds the lease `leader` in the shared state (bot/state/chats.py) and renews
it every `RENEW_S`; a leader that dies stops renewing, and within `LEASE_S` another
replica's next try takes the lease over, so a dead leader is replaced within a minute.
With SQLite the replicas share one host; with Postgres, any number of hosts. Answering,
alert sending (the outbox) and digests need no leader: their claims make them once.

Feed refreshes run only on the leader, so each feed of the shared feed list
(index/web/feed_list.py) is fetched once per round across all replicas; every ingest
still takes the index's write lock (index/store/locking.py), which with Postgres and
a Chroma server holds across hosts. A leader killed mid-round leaves its entries
unseen: the next leader fetches and ingests them, and alert claims keep each alert once.
"""

import logging
import os
import socket

from sqlalchemy.exc import SQLAlchemyError

from bot.telegram.state import BotData, Context

log = logging.getLogger(__name__)

LEASE = "leader"
LEASE_S = 45.0
RENEW_S = 10.0


async def campaign(context: Context) -> None:
    """The job: take or renew the leader's lease."""
    await elect(context.bot_data)


async def elect(data: BotData) -> None:
    """Take or renew the leader's lease; `data.leading` says whether this replica holds it."""
    me = f"{socket.gethostname()}:{os.getpid()}"
    try:
        leading = await data.chore(data.state.take_lease, LEASE, me, LEASE_S)
    except SQLAlchemyError as exc:
        leading = False  # another replica, reaching the state, may lead meanwhile
        log.warning("not leading: the shared state is unreachable (%s)", type(exc).__name__)
    if leading != data.leading:
        log.info("this replica %s the leader", "is now" if leading else "is no longer")
    data.leading = leading
