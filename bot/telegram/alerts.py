"""Alerts: after every ingest, each new article about a chat's watch alerts that chat.

Whatever ingested (the scheduled feed refresh, an admin's /refresh or /add, a document)
passes the new articles' ids to `after_ingest`. Off the event loop, every chat's
watches are matched against them (index/search/watches.py); per chat, each article
goes to its best-matching watch, and the articles of one story (the same event from
several outlets, or an article like one alerted in the last days) alert once. A chat
gets at most `watch.max_alerts` alerts per ingest, then one "and N more" line.

Delivery goes through the outbox in the shared state (bot/state/follows.py): planning
claims each (chat, article) and queues its message in one transaction, so no replica
plans an alert twice; `send_outbox` then takes due messages, sends them and marks them
sent. A failed send is tried again after `telegram.alert_retry_s`, doubling; a chat
that blocked the bot or no longer exists loses its watches, digest and unsent alerts,
with a log line; one chat's failure never holds up the others. Every replica drains
the outbox every `telegram.alert_check_s`, so a message whose sender died goes out
from another once its claim runs out.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot.state import Outgoing, Watch
from bot.telegram.delivery import chat_gone
from bot.telegram.formatting import escape, link
from bot.telegram.handlers import ask_and_reply
from bot.telegram.state import BotData, Context
from index.errors import NewsbotError
from index.search.stories import Lead, Story, group_stories, story_date
from index.search.watches import Match, Topic, match, read_arrivals

log = logging.getLogger(__name__)
NewsApplication = Application[Any, Any, Any, Any, BotData, Any]

OUTBOX_JOB = "alert-outbox"
ASK_PREFIX = "ask:"
ASK_PATTERN = r"^ask:[0-9a-f]{16}$"
OUTBOX_BATCH = 50
JOB_GRACE_S = 5.0
RECENT_S = 3 * 86400  # an article like one alerted this recently is the same story


@dataclass(frozen=True)
class Alert:
    """One story for one chat: the watch it matched and the best sentence for it."""

    watch: Watch
    story: Story
    sentence: str


@dataclass
class ChatAlerts:
    """What one chat is sent after an ingest."""

    chat_id: int
    alerts: list[Alert] = field(default_factory=list)
    more: int = 0


def register(application: NewsApplication) -> None:
    """Add the handler of the alerts' "Ask about it" buttons, and the outbox's job."""
    application.add_handler(CallbackQueryHandler(ask_about, pattern=ASK_PATTERN))
    every = application.bot_data.settings.telegram.alert_check_s
    if application.job_queue is not None:
        application.job_queue.run_repeating(send_due, interval=every, first=every, name=OUTBOX_JOB)


async def after_ingest(
    application: Application[Any, Any, Any, Any, BotData, Any], ids: list[str]
) -> None:
    """Alert every chat whose watch one of these new articles is about."""
    if not ids:
        return
    data = application.bot_data
    try:
        await data.chore(plan_alerts, data, ids)
    except (NewsbotError, SQLAlchemyError) as exc:  # the ingest itself went well
        log.warning("couldn't plan the alerts for %d new articles: %s", len(ids), exc)
    await send_outbox(application.bot, data)


async def send_due(context: Context) -> None:
    """The job: send what has been due a while (retries, leftovers of senders that stopped).

    Messages due less than `JOB_GRACE_S` are left to the ingest that queued them, so an
    admin's /refresh is answered after its alerts went out.
    """
    await send_outbox(context.bot, context.bot_data, JOB_GRACE_S)


async def send_outbox(bot: Bot, data: BotData, grace_s: float = 0.0) -> None:
    """Send the outbox's due messages; each is marked sent, retried later, or dropped."""
    take = data.subscriptions.take_outgoing
    try:
        while batch := await data.chore(take, OUTBOX_BATCH, time.time() - grace_s):
            for outgoing in batch:
                await _send(bot, data, outgoing)
            if len(batch) < OUTBOX_BATCH:
                return
    except SQLAlchemyError as exc:  # the outbox keeps them until the state is back
        log.warning("alerts wait: the shared state is unreachable (%s)", type(exc).__name__)


async def _send(bot: Bot, data: BotData, outgoing: Outgoing) -> None:
    """Send one outbox message; a failure concerns this chat only."""
    try:
        await bot.send_message(
            outgoing.chat_id,
            outgoing.html,
            parse_mode=ParseMode.HTML,
            reply_markup=ask_button(outgoing.article_id) if outgoing.article_id else None,
            disable_web_page_preview=True,
        )
    except TelegramError as error:
        if chat_gone(error):
            await data.forget_chat(outgoing.chat_id, error.message)
            return
        wait = await data.chore(
            data.subscriptions.failed, outgoing, data.settings.telegram.alert_retry_s
        )
        log.warning(
            "an alert to chat %s failed (%s); %s",
            outgoing.chat_id,
            error.message,
            f"trying again in {wait:g} s" if wait is not None else "giving up",
        )
        return
    await data.chore(data.subscriptions.sent, outgoing)


def plan_alerts(data: BotData, ids: list[str]) -> list[ChatAlerts]:
    """Match the watches against new articles and claim the alerts (blocking)."""
    watches = data.subscriptions.watches()
    if not watches:
        return []
    service = data.service()
    embeddings = service.retriever.embeddings
    _embed_missing(data, watches, embeddings.embed_documents)
    watches = data.subscriptions.watches()
    snapshot = service.live.current()
    arrivals = read_arrivals(snapshot.store, ids, snapshot.lexical)
    topics = [Topic(i, w.words, w.vector) for i, w in enumerate(watches) if w.vector is not None]
    settings = data.settings
    found = match(
        arrivals,
        topics,
        snapshot.lexical,
        settings.watch.min_score,
        settings.watch.lexical_weight,
    )
    leads = {a.article.id: a.lead for a in arrivals}
    by_chat: dict[int, list[Match]] = {}
    for m in found:  # best first
        if (m.article.ingested or float("inf")) < watches[m.key].created:
            continue  # in the index before the watch was set (seen again by arrivals.py)
        by_chat.setdefault(watches[m.key].chat_id, []).append(m)
    return [
        plan
        for chat_id, matches in by_chat.items()
        if (plan := _plan_chat(data, chat_id, matches, watches, leads)).alerts
    ]


def _embed_missing(data: BotData, watches: list[Watch], embed: Any) -> None:
    """Embed the watches set before the index existed or under another model."""
    model = data.settings.embedding.model
    missing = [w for w in watches if w.vector is None or w.model != model]
    if missing:
        vectors = embed([w.words for w in missing])
        data.subscriptions.store_vectors(missing, [np.asarray(v) for v in vectors], model)


def _plan_chat(
    data: BotData,
    chat_id: int,
    matches: list[Match],
    watches: list[Watch],
    leads: dict[str, Lead],
) -> ChatAlerts:
    """One chat's alerts: one per story, each article claimed before it is sent.

    Stories are grouped over every new article and those alerted to the chat lately,
    so another outlet's article on an alerted event, matching or not, stays quiet.
    """
    best: dict[str, Match] = {}
    for m in matches:
        best.setdefault(m.article.id, m)
    digest = data.settings.digest
    recent = _recent_leads(data, chat_id)
    stories = group_stories([*leads.values(), *recent], digest.story_similarity, digest.story_days)
    recent_ids = {lead.article.id for lead in recent}
    wanted = [
        s
        for s in stories
        if any(lead.article.id in best for lead in s.leads)
        and not recent_ids.intersection(lead.article.id for lead in s.leads)
    ]  # a story alerted before, as this article or another outlet's, stays quiet
    ranked = []
    for story in wanted:
        top = max(
            (best[lead.article.id] for lead in story.leads if lead.article.id in best),
            key=lambda m: m.score,
        )
        ranked.append((top.score, Alert(watches[top.key], story, top.sentence)))
    ranked.sort(key=lambda pair: -pair[0])
    cap = data.settings.watch.max_alerts
    plan = ChatAlerts(chat_id, [alert for _, alert in ranked[:cap]], max(0, len(ranked) - cap))
    # every new article of every wanted story is claimed; the shown ones queue a message
    messages = {alert.story.article.id: alert_html(alert) for alert in plan.alerts}
    claimed = data.subscriptions.claim_alerts(
        chat_id,
        [lead.article.id for s in wanted for lead in s.leads if lead.article.id in leads],
        messages,
    )
    plan.alerts = [a for a in plan.alerts if a.story.article.id in claimed]
    if plan.more and plan.alerts:
        data.subscriptions.queue(chat_id, escape(more_text(plan.more)))
    return plan


def _recent_leads(data: BotData, chat_id: int) -> list[Lead]:
    """The leads of the articles alerted to this chat in the last days (for near-duplicates)."""
    ids = data.subscriptions.alerted_since(chat_id, time.time() - RECENT_S)
    if not ids:
        return []
    snapshot = data.service().live.current()
    return [a.lead for a in read_arrivals(snapshot.store, ids, None)]


def alert_html(alert: Alert) -> str:
    """An alert: the watch, the article's title, date, source and link, the sentence."""
    article = alert.story.article
    day = story_date(alert.story)
    where = ", ".join(filter(None, [article.source, day.isoformat() if day else None]))
    others = [o for o in alert.story.outlets if o != (article.source or "unknown source")]
    lines = [
        f"\U0001f514 Watch {alert.watch.number}: <b>{escape(alert.watch.words)}</b>",
        link(article.url, f"<b>{escape(article.title)}</b>"),
        escape(where) + (f" (also {escape(', '.join(others))})" if others else ""),
        f"\u201c{escape(alert.sentence)}\u201d",
    ]
    return "\n".join(line for line in lines if line)


def more_text(count: int) -> str:
    """The line for the alerts beyond the cap."""
    articles = "story matches" if count == 1 else "stories match"
    return f"\u2026and {count} more new {articles} this chat's watches: /digest lists them."


def ask_button(article_id: str) -> InlineKeyboardMarkup:
    """The "Ask about it" button under an alert."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Ask about it", callback_data=ASK_PREFIX + _short(article_id))]]
    )


def _short(article_id: str) -> str:
    return hashlib.sha1(article_id.encode()).hexdigest()[:16]


async def ask_about(update: Update, context: Context) -> None:
    """Answer a question about an alert's article (its title) in the chat's conversation."""
    query = update.callback_query
    if query is None or query.message is None or update.effective_chat is None:
        return
    wanted = (query.data or "").removeprefix(ASK_PREFIX)
    data = context.bot_data
    ids = await data.chore(data.subscriptions.alerted_since, update.effective_chat.id, 0.0)
    article_id = next((i for i in ids if _short(i) == wanted), None)
    title = await data.chore(_title_of, data, article_id) if article_id else None
    if title is None:
        await query.answer("That article is no longer in the index.")
        return
    await query.answer()
    await ask_and_reply(query.message, update, context, title)  # type: ignore[arg-type]


def _title_of(data: BotData, article_id: str) -> str | None:
    found = read_arrivals(data.service().live.current().store, [article_id], None)
    return found[0].article.title if found else None
