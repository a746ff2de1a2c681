"""Digests in Telegram: /digest, /digest more, /digest daily HH:MM and /digest off.

/digest sends the stories of the articles ingested since this chat's last digest (or
in the last 24 hours), `digest.max_stories` at a time; /digest more sends the next
ones of the same window. A digest is HTML: each story's title in bold, linked to its
newest article, its outlets each linked to their article, its lead quoted; long ones
start with the most reported stories, and messages are cut between stories to stay
within Telegram's 4096 characters. A daily digest is kept in the shared store with the moment it
is next due, in `telegram.timezone`. Every replica's JobQueue looks for due digests
every `telegram.digest_check_s`; whoever moves a digest's due time on first (one SQLite
statement) sends it, so exactly one replica does, and a digest due while every replica
was down goes out when one starts.
"""

import html
import logging
import re
import time
from datetime import datetime, timedelta, tzinfo
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from bot.digest import Digest, build_digest, heading, outlets
from bot.telegram.delivery import chat_gone
from bot.telegram.formatting import MAX_MESSAGE_LENGTH, clip, escape, link, visible_length
from bot.telegram.state import BotData, Context
from index.search.stories import Story, Window, story_date

log = logging.getLogger(__name__)

DEFAULT_WINDOW_S = 24 * 3600
DIGEST_JOB = "due-digests"
USAGE = (
    "/digest: the stories since your last digest (or of the last 24 hours)\n"
    "/digest more: the next stories of the last digest\n"
    "/digest daily HH:MM: send it every day at that time ({zone})\n"
    "/digest off: stop the daily digest"
)
_HH_MM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TAG = re.compile(r"<[^>]+>")
_MAX_LEAD = 600  # visible characters of a story's lead


def register(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Add /digest and the job that sends the daily digests that are due."""
    application.add_handler(CommandHandler("digest", digest))
    every = application.bot_data.settings.telegram.digest_check_s
    if application.job_queue is not None:
        application.job_queue.run_repeating(send_due, interval=every, first=every, name=DIGEST_JOB)
    else:
        log.warning("no JobQueue (install python-telegram-bot[job-queue]): no daily digests")


async def digest(update: Update, context: Context) -> None:
    """Send this chat's digest, its next page, or set or stop the daily one."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    data = context.bot_data
    zone = ZoneInfo(data.settings.telegram.timezone)
    args = [a.lower() for a in context.args or []]
    if not args:
        await send_digest(context.bot, data, chat.id)
    elif args == ["more"]:
        await send_digest(context.bot, data, chat.id, more=True)
    elif args == ["off"]:
        await data.chore(data.subscriptions.schedule_digest, chat.id, None, None)
        await message.reply_text("The daily digest is off. /digest still sends one now.")
    elif len(args) == 2 and args[0] == "daily" and (hh_mm := _HH_MM.match(args[1])):
        at = clock(int(hh_mm.group(1)), int(hh_mm.group(2)))
        due = next_due(at, zone, time.time())
        await data.chore(data.subscriptions.schedule_digest, chat.id, at.strftime("%H:%M"), due)
        first = datetime.fromtimestamp(due, zone).strftime("%Y-%m-%d %H:%M %Z")
        await message.reply_text(
            f"Daily digest set for {at:%H:%M} ({zone.key}); the first comes {first}. "
            "/digest off stops it."
        )
    else:
        await message.reply_text(USAGE.format(zone=zone.key))


def next_due(at: clock, zone: ZoneInfo, after: float) -> float:
    """The first moment after `after` (Unix s) when the clock in `zone` shows `at`."""
    day = datetime.fromtimestamp(after, zone).date()
    for offset in range(3):
        moment = datetime.combine(day + timedelta(days=offset), at, tzinfo=zone).timestamp()
        if moment > after:
            return moment
    raise AssertionError("a time of day recurs within three days")


async def send_due(context: Context) -> None:
    """Send every daily digest that is due and that no other replica took first."""
    data = context.bot_data
    now = time.time()
    zone = ZoneInfo(data.settings.telegram.timezone)
    for chat_id, daily, due in await data.chore(data.subscriptions.due_digests, now):
        hours, minutes = map(int, daily.split(":"))
        following = next_due(clock(hours, minutes), zone, max(now, due))
        if await data.chore(data.subscriptions.claim_digest, chat_id, due, following):
            log.info("sending chat %s its daily digest", chat_id)
            await send_digest(context.bot, data, chat_id)


async def send_digest(bot: Bot, data: BotData, chat_id: int, more: bool = False) -> None:
    """Send a chat its digest (or the next page of the last one), split like long answers."""
    zone = ZoneInfo(data.settings.telegram.timezone)
    state = await data.chore(data.subscriptions.digest, chat_id)
    cap = data.settings.digest.max_stories
    if more and state.page_since is None:
        await _send(bot, data, chat_id, ["No digest yet: send /digest first."])
        return
    if more:
        found = await data.run(_build, data, state.page_since, state.page_until)
        first = state.page_shown
    else:
        now = time.time()
        found = await data.run(_build, data, state.last_sent or now - DEFAULT_WINDOW_S, now)
        first = 0
    if more and first >= len(found.stories):
        await _send(bot, data, chat_id, ["That was the whole digest; /digest sends a new one."])
        return
    rest = len(found.stories) - (first + cap)
    more_line = f"\u2026and {rest} more {'story' if rest == 1 else 'stories'}: /digest more"
    parts = digest_html(found, zone, first, cap, [escape(more_line)] if rest > 0 else [])
    if await _send(bot, data, chat_id, parts):
        shown = min(first + cap, len(found.stories))
        if more:
            await data.chore(data.subscriptions.digest_more, chat_id, shown)
        else:
            await data.chore(
                data.subscriptions.digest_sent, chat_id, found.since, found.until, shown
            )


def _build(data: BotData, since: float, until: float) -> Digest:
    window = Window(since, until, "ingested")  # what came in since the chat's last digest
    return build_digest(data.service().live.current().store, data.settings.digest, window)


def digest_html(
    digest: Digest,
    zone: tzinfo | None,
    first: int,
    count: int,
    tail: list[str] | None = None,
    limit: int = MAX_MESSAGE_LENGTH,
) -> list[str]:
    """The digest's stories `first` to `first + count` as HTML messages of at most `limit`
    visible characters, cut between blocks: the heading and summary (on the first page),
    the stories, then `tail` (HTML blocks)."""
    blocks = []
    if first == 0:
        blocks.append(f"<b>{escape(heading(digest, zone))}</b>")
        top = digest.most_reported()
        if top:
            lines = [f"\u2022 {_title(story)} ({outlets(story)})" for story in top]
            blocks.append("\n".join(["Most reported:", *lines]))
    shown = digest.stories[first : first + count]
    blocks += [story_html(n, story) for n, story in enumerate(shown, start=first + 1)]
    blocks += tail or []
    messages: list[str] = []
    for block in blocks:
        block = _fitting(block, limit)
        joined = f"{messages[-1]}\n\n{block}" if messages else block
        if messages and _visible(joined) <= limit:
            messages[-1] = joined
        else:
            messages.append(block)
    return messages


def story_html(number: int, story: Story) -> str:
    """One story: its title in bold linked to its newest article, with the date; its
    outlets, each linked to its article; its lead, quoted."""
    day = story_date(story)
    lines = [f"{number}. <b>{_title(story)}</b>" + (f" ({day.isoformat()})" if day else "")]
    urls: dict[str, str | None] = {}
    for member in story.leads:
        urls.setdefault(member.article.source or "unknown source", member.article.url)
    lines.append(", ".join(link(url, escape(outlet)) for outlet, url in urls.items()))
    lead = story.leads[0].sentence
    if lead:
        lines.append(f"<i>\u201c{escape(clip(lead, _MAX_LEAD))}\u201d</i>")
    return "\n".join(lines)


def _title(story: Story) -> str:
    return link(story.article.url, escape(story.article.title))


def _visible(html_text: str) -> int:
    """The length Telegram counts of HTML that this module wrote: its text, tags aside."""
    return visible_length(html.unescape(_TAG.sub("", html_text)))


def _fitting(block: str, limit: int) -> str:
    """A block within the limit: one too long (a story of many outlets) is sent as its
    plain text, clipped, so no cut falls inside a tag."""
    if _visible(block) <= limit:
        return block
    return escape(clip(html.unescape(_TAG.sub("", block)), limit))


async def _send(bot: Bot, data: BotData, chat_id: int, parts: list[str]) -> bool:
    """Send HTML messages; False (and the chat dropped) when the chat is gone."""
    try:
        for part in parts:
            await bot.send_message(
                chat_id, part, parse_mode=ParseMode.HTML, disable_web_page_preview=True
            )
    except TelegramError as error:
        if not chat_gone(error):
            raise
        await data.forget_chat(chat_id, error.message)
        return False
    return True
