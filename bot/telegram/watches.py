"""Watches from Telegram: /watch WORDS, /watches and /unwatch N, for any allowed user.

A watch belongs to the chat (a group's watches alert the group) and is numbered in it.
Its words are embedded when it is set, off the event loop, so matching a refresh
against thousands of watches needs no model call per watch (alerts.py).
"""

import logging
from typing import Any

import numpy as np
from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.telegram.state import BotData, Context
from index.errors import EmptyIndexError, StoreUnavailableError
from index.terms import terms

log = logging.getLogger(__name__)

MAX_WORDS_LENGTH = 200
WATCH_USAGE = (
    "Send /watch followed by what to follow, e.g. /watch Damar Hamlin or "
    "/watch central bank interest rates."
)
UNWATCH_USAGE = "Send /unwatch followed by a watch's number from /watches."


def register(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Add /watch, /watches and /unwatch."""
    application.add_handler(CommandHandler("watch", watch))
    application.add_handler(CommandHandler("watches", list_watches))
    application.add_handler(CommandHandler("unwatch", unwatch))


async def watch(update: Update, context: Context) -> None:
    """Save a watch for this chat and confirm it with its number."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    words = " ".join(context.args or []).strip()
    if not words:
        await message.reply_text(WATCH_USAGE, do_quote=True)
        return
    if len(words) > MAX_WORDS_LENGTH or not terms(words):
        await message.reply_text(
            f"A watch needs a few words that name a topic (at most {MAX_WORDS_LENGTH} "
            "characters), e.g. /watch Damar Hamlin.",
            do_quote=True,
        )
        return
    data = context.bot_data
    limit = data.settings.watch.max_per_chat
    number = await data.chore(data.subscriptions.add_watch, chat.id, words, limit)
    if number is None:
        await message.reply_text(
            f"This chat already has {limit} watches; remove one with /unwatch N first.",
            do_quote=True,
        )
        return
    await data.chore(_embed, data, chat.id, number, words)
    await message.reply_text(
        f"Watch {number} saved: \u201c{words}\u201d. I'll send an alert here when a new article "
        f"is about it. /watches lists this chat's watches; /unwatch {number} removes it.",
        do_quote=True,
    )


def _embed(data: BotData, chat_id: int, number: int, words: str) -> None:
    """Embed a new watch now; without an index yet, it is embedded when alerts first run."""
    try:
        embeddings = data.service().retriever.embeddings
    except (EmptyIndexError, StoreUnavailableError) as exc:
        log.info("watch %s of chat %s is embedded later: %s", number, chat_id, exc)
        return
    saved = [w for w in data.subscriptions.watches(chat_id) if w.number == number]
    vector = np.asarray(embeddings.embed_query(words), dtype=np.float32)
    data.subscriptions.store_vectors(saved, [vector] * len(saved), data.settings.embedding.model)


async def list_watches(update: Update, context: Context) -> None:
    """List this chat's watches with their numbers."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    saved = await context.bot_data.chore(context.bot_data.subscriptions.watches, chat.id)
    if not saved:
        await message.reply_text("This chat has no watches yet. " + WATCH_USAGE, do_quote=True)
        return
    lines = [f"{w.number}. {w.words}" for w in saved]
    await message.reply_text(
        "This chat's watches:\n" + "\n".join(lines) + "\n\n/unwatch N removes one.",
        do_quote=True,
    )


async def unwatch(update: Update, context: Context) -> None:
    """Remove one of this chat's watches by its number."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit():
        await message.reply_text(UNWATCH_USAGE, do_quote=True)
        return
    number = int(args[0])
    words = await context.bot_data.chore(
        context.bot_data.subscriptions.remove_watch, chat.id, number
    )
    if words is None:
        await message.reply_text(
            f"This chat has no watch {number}; /watches lists them.", do_quote=True
        )
        return
    await message.reply_text(f"Removed watch {number}: \u201c{words}\u201d.", do_quote=True)
