"""Alerts for articles anyone ingested: cron's `newsbot ingest`, another host, this bot.

The bot's own ingests plan their alerts at once (alerts.after_ingest). Everything else
is noticed here: every `telegram.alert_check_s`, the leading replica (leader.py) asks
the live index for its snapshot, which is rebuilt when the store's generation marker
changed; then it reads the articles whose recorded ingest time is at or after the
shared mark `arrivals` (less `SLACK_S`, for clocks of other hosts and ingests still
writing when the mark was set) and at least `SETTLE_S` old, and plans their alerts.
Planning claims each (chat, article) once (bot/state/follows.py), so an article seen
twice, here and by the bot's own ingest, still alerts once; and the leader remembers
what it planned here, so the slack does not make every look plan the same articles.

On its first run the mark is set to now: a new deployment does not alert the whole
back catalogue.
"""

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from bot.state import tables
from bot.state.chats import upsert
from bot.telegram import alerts
from bot.telegram.state import BotData, Context
from index.errors import EmptyIndexError, NewsbotError
from index.search.stories import Window, read_leads

log = logging.getLogger(__name__)

MARK = "arrivals"
SLACK_S = 600.0
SETTLE_S = 20.0


async def check(context: Context) -> None:
    """The job: plan alerts for articles that came in since the last look, on the leader."""
    data = context.bot_data
    if not data.leading:
        return
    try:
        ids = await data.chore(new_articles, data)
    except EmptyIndexError:
        return
    except (NewsbotError, SQLAlchemyError) as exc:
        log.warning("couldn't look for newly ingested articles: %s", exc)
        return
    if ids:
        log.info("%d articles came in from another ingest; planning their alerts", len(ids))
        await alerts.after_ingest(context.application, ids)


def new_articles(data: BotData) -> list[str]:
    """The ids of the articles ingested since the shared mark; moves the mark on (blocking).

    Articles younger than `SETTLE_S` wait for a later look: the process ingesting them
    (this bot's /refresh, say) plans their alerts itself meanwhile, and the marker is
    only taken as seen once no article was left waiting.
    """
    snapshot = data.service().live.current()
    if snapshot.generation == data.seen_generation:
        return []
    settled = time.time() - SETTLE_S
    since = read_mark(data)
    if since is None:
        write_mark(data, settled)
        data.seen_generation = snapshot.generation
        return []
    window = Window(since - SLACK_S, time.time() + SLACK_S, by="ingested")
    leads = read_leads(snapshot.store, window)
    settled_leads = [lead for lead in leads if (lead.article.ingested or 0.0) <= settled]
    ready = [lead.article.id for lead in settled_leads if lead.article.id not in data.arrived]
    # Those planned here before are not planned again while the slack keeps them in the
    # window (their claims would hold, but each look would log and re-plan them).
    data.arrived = {i: t for i, t in data.arrived.items() if t >= window.since} | {
        lead.article.id: lead.article.ingested or 0.0 for lead in settled_leads
    }
    write_mark(data, settled)
    if len(settled_leads) == len(leads):  # nothing left waiting: this marker is done with
        data.seen_generation = snapshot.generation
    return ready


def read_mark(data: BotData) -> float | None:
    """The moment up to which ingested articles have been planned, or None on the first run."""
    m = tables.marks
    with data.state.engine.begin() as db:
        value = db.scalar(m.select().with_only_columns(m.c.value).where(m.c.name == MARK))
    return float(value) if value is not None else None


def write_mark(data: BotData, moment: float) -> None:
    """Move the `arrivals` mark to a moment (never back)."""
    m = tables.marks
    with data.state.transaction() as db:
        statement = upsert(db, m).values(name=MARK, value=repr(moment), at=moment)
        db.execute(
            statement.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": statement.excluded.value, "at": statement.excluded.at},
                where=m.c.at < statement.excluded.at,
            )
        )
