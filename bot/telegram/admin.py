"""News sources from Telegram: /add, /feeds, /refresh and /unfollow for admins, and the
scheduled refresh of every feed (python-telegram-bot's JobQueue).

Fetching and ingest run in `BotData.writer`, one job at a time and off the event loop,
so answering goes on meanwhile; listing and removing feeds don't wait for them. A
command's progress and result are one message, edited as the work proceeds. After an
ingest the answering service rereads the index.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CommandHandler

from bot.telegram import alerts
from bot.telegram.formatting import split_text
from bot.telegram.state import BotData, Context
from index.errors import NewsbotError
from index.web import following

log = logging.getLogger(__name__)

ADMIN_ONLY = "Sorry, only the bot's administrators can manage news sources."
ADD_USAGE = "Send /add followed by the address of a news page or an RSS/Atom feed."
UNFOLLOW_USAGE = "Send /unfollow followed by a feed id from /feeds."
EDIT_EVERY_S = 1.5  # at most one progress edit this often, within Telegram's limits
REFRESH_JOB = "refresh-feeds"
FIRST_REFRESH_S = 1.0  # soon after start: the feeds may have moved on while the bot was down


def register(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Add the admin commands and, when `feeds.refresh_minutes` is set, the refresh job."""
    application.add_handler(CommandHandler("add", add))
    application.add_handler(CommandHandler("feeds", feeds))
    application.add_handler(CommandHandler("refresh", refresh))
    application.add_handler(CommandHandler("unfollow", unfollow))
    minutes = application.bot_data.settings.feeds.refresh_minutes
    if minutes and application.job_queue is not None:
        application.job_queue.run_repeating(
            scheduled_refresh,
            interval=minutes * 60,
            first=FIRST_REFRESH_S,
            name=REFRESH_JOB,
            data=_Schedule(),
        )
    elif minutes:
        log.warning("no JobQueue (install python-telegram-bot[job-queue]): feeds won't refresh")


class StatusMessage:
    """One message edited as work proceeds; `update` may be called from worker threads."""

    def __init__(self, message: Message, loop: asyncio.AbstractEventLoop) -> None:
        self.message = message
        self.loop = loop
        self.text = message.text or ""
        self._last = 0.0
        self._finished = False
        self._lock = asyncio.Lock()

    def update(self, text: str) -> None:
        """Show progress (thread-safe; skipped when the last edit was very recent)."""
        moment = time.monotonic()
        if moment - self._last < EDIT_EVERY_S:
            return
        self._last = moment
        asyncio.run_coroutine_threadsafe(self._edit(text, final=False), self.loop)

    async def finish(self, text: str) -> None:
        """Show the result; later progress updates are ignored."""
        self._finished = True
        await self._edit(text, final=True)

    async def _edit(self, text: str, final: bool) -> None:
        text = split_text(text)[0] if text.strip() else "Done."
        async with self._lock:
            if (self._finished and not final) or text == self.text:
                return
            self.text = text
            try:
                await self.message.edit_text(text)
            except BadRequest as error:
                if "not modified" not in error.message.lower():
                    raise
            except TelegramError as error:
                if final:
                    raise
                log.debug("progress edit failed: %s", error)


async def admin_message(update: Update, context: Context) -> Message | None:
    """The command's message when an admin sent it; otherwise refuse politely."""
    message = update.effective_message
    if message is None:
        return None
    user = update.effective_user
    if user is None or user.id not in context.bot_data.settings.telegram.admin_user_ids:
        await message.reply_text(ADMIN_ONLY, do_quote=True)
        return None
    return message


async def reply_status(message: Message, text: str) -> StatusMessage:
    sent = await message.reply_text(text, do_quote=True)
    return StatusMessage(sent, asyncio.get_running_loop())


async def add(update: Update, context: Context) -> None:
    """Ingest a page, or follow a feed and ingest its entries."""
    message = await admin_message(update, context)
    if message is None:
        return
    if len(context.args or []) != 1:
        await message.reply_text(ADD_USAGE, do_quote=True)
        return
    url = (context.args or [""])[0]
    data = context.bot_data
    status = await reply_status(message, f"Fetching {url}…")
    try:
        added = await data.write(_add_and_reload, data, url, status.update)
    except NewsbotError as exc:
        await status.finish(f"Couldn't add {url}: {exc}")
        return
    await status.finish(added.message)
    await alerts.after_ingest(context.application, added.report.added if added.report else [])


def _add_and_reload(data: BotData, url: str, status: following.Status) -> following.Added:
    added = following.add_source(data.settings, url, status)
    if added.changed:
        data.reload_index()
    return added


async def feeds(update: Update, context: Context) -> None:
    """List the followed feeds with their ids."""
    message = await admin_message(update, context)
    if message is None:
        return
    # not through the writer: a refresh running there must not hold up a look at the list
    followed = await asyncio.to_thread(following.list_feeds, context.bot_data.settings)
    if not followed:
        await message.reply_text("No feeds yet. " + ADD_USAGE, do_quote=True)
        return
    lines = [feed.describe() for feed in followed]
    for part in split_text("Followed feeds (id, title, address):\n" + "\n".join(lines)):
        await message.reply_text(part, do_quote=True)


async def refresh(update: Update, context: Context) -> None:
    """Refresh every feed now."""
    message = await admin_message(update, context)
    if message is None:
        return
    status = await reply_status(message, "Refreshing the feeds…")
    try:
        report = await context.bot_data.write(_refresh_and_reload, context.bot_data, status.update)
    except NewsbotError as exc:
        await status.finish(f"Couldn't refresh: {exc}")
        return
    lines = [report.summary()] + [f"skipped {problem}" for problem in report.problems]
    await status.finish("\n".join(lines))
    await alerts.after_ingest(context.application, report.added)


def _refresh_and_reload(data: BotData, status: following.Status) -> following.RefreshReport:
    report = following.refresh_feeds(data.settings, status=status)
    if report.changed:
        data.reload_index()
    return report


async def unfollow(update: Update, context: Context) -> None:
    """Stop following a feed; its articles stay answerable."""
    message = await admin_message(update, context)
    if message is None:
        return
    if len(context.args or []) != 1:
        await message.reply_text(UNFOLLOW_USAGE, do_quote=True)
        return
    key = (context.args or [""])[0]
    try:
        # the feed list is edited in one transaction of the shared database; a running
        # refresh then leaves the removed feed alone, so this need not wait for the writer
        feed = await asyncio.to_thread(following.unfollow_feed, context.bot_data.settings, key)
    except NewsbotError as exc:
        await message.reply_text(f"Couldn't unfollow it: {exc}", do_quote=True)
        return
    await message.reply_text(
        f"Stopped following feed {feed.id}: {feed.title or feed.url}. "
        "Its articles stay in the index.",
        do_quote=True,
    )


@dataclass
class _Schedule:
    """Whether a scheduled refresh is still running (a slow one must not pile up)."""

    running: bool = False


async def scheduled_refresh(context: Context) -> None:
    """Refresh every feed (the JobQueue calls this every `feeds.refresh_minutes`)."""
    data = context.bot_data
    if not data.leading:  # one replica fetches the feeds (leader.py)
        return
    schedule = context.job.data if context.job else None
    if isinstance(schedule, _Schedule):
        if schedule.running:
            log.info("the previous feed refresh is still running; skipping this one")
            return
        schedule.running = True
    try:
        report = await data.write(_refresh_and_reload, data, following.quiet)
    except NewsbotError as exc:
        log.warning("scheduled feed refresh failed: %s", exc)
        return
    finally:
        if isinstance(schedule, _Schedule):
            schedule.running = False
    if report.feeds:
        log.info("scheduled feed refresh: %s", report.summary())
    for problem in report.problems:
        log.info("feed refresh skipped %s", problem)
    await alerts.after_ingest(context.application, report.added)
