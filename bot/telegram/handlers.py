"""Handlers: commands, questions, the Sources pager, the access gate and the one error handler."""

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, Message, Update
from telegram.constants import ChatType
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.answer import NOT_FOUND, Answer
from bot.conversation import Conversation
from bot.telegram.access import is_addressed, is_allowed, question_text
from bot.telegram.citations import sources_button
from bot.telegram.delivery import reply_html, typing
from bot.telegram.formatting import answer_parts, escape
from bot.telegram.shared import save_chat
from bot.telegram.state import ChatData, Context, UserData
from bot.telegram.streaming import stream_answer
from index.errors import EmptyIndexError, StoreUnavailableError

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "What I know and how to ask"),
    BotCommand("help", "Usage and example questions"),
    BotCommand("sources", "Sources of the last answer"),
    BotCommand("reset", "Forget our conversation"),
    BotCommand("stats", "Articles and dates in the index"),
    BotCommand("watch", "Get an alert when news about a topic comes in"),
    BotCommand("watches", "This chat's watches"),
    BotCommand("unwatch", "Remove a watch"),
    BotCommand("digest", "The stories that came in lately"),
]
EMPTY_INDEX = (
    "I don't know any articles yet: the index is empty. Ask again once articles have been added."
)
APOLOGY = "Sorry, something went wrong while answering. Please try again."
UNAVAILABLE = "The news index is temporarily unavailable. Please try again in a minute."
REFUSAL = "Sorry, this bot is private and you are not on its list of users."
SLOW_DOWN = "You're asking faster than I can answer: please wait a little ({n} questions a minute)."
HELP = """<b>Ask me about the news</b>
Send a question in plain words. I answer with sentences quoted from the indexed articles; \
each [n] links to its article, and the <b>Sources</b> button shows the quoted passages.
Follow-up questions use this chat's last few questions, so "What did he say next?" works.

<b>Examples</b>
• Who won the election?
• What did the foreign minister say about terrorism?
• Why did the company recall the cars?

In a group, mention me or reply to one of my messages; each member has their own \
conversation with me there.

/start: what I know
/help: this message
/sources: the sources of the last answer
/reset: forget our conversation (in a group, only yours)
/stats: what the index holds

<b>Following the news</b>
/watch WORDS: alert this chat when a new article is about them, e.g. /watch Damar Hamlin
/watches: this chat's watches; /unwatch N removes one
/digest: the stories since your last digest (or of the last 24 hours); /digest more \
continues a long one
/digest daily HH:MM: send the digest every day at that time; /digest off stops it"""
UNKNOWN_COMMAND = "Unknown command {command}; /help lists what I can do."


def _message(update: Update) -> Message:
    if update.effective_message is None:
        raise ValueError(f"update {update.update_id} has no message")
    return update.effective_message


def _chat_data(context: Context) -> ChatData:
    if context.chat_data is None:
        raise ValueError("update without a chat")
    return context.chat_data


def _user_data(context: Context) -> UserData:
    if context.user_data is None:
        raise ValueError("update without a user")
    return context.user_data


async def gate(update: Update, context: Context) -> None:
    """Let allowed users through; refuse anyone else once per chat, then stay silent."""
    if is_allowed(update, context.bot_data.settings.telegram):
        return
    user, where = update.effective_user, update.effective_chat
    log.debug("refused an update from user %s in chat %s", user and user.id, where and where.id)
    if update.callback_query:
        await update.callback_query.answer(REFUSAL)
    elif update.effective_message and is_addressed(update.effective_message):
        chat = _chat_data(context)
        if not chat.refused:
            chat.refused = True
            await update.effective_message.reply_text(REFUSAL)
            await save_chat(update, context)  # save_chat's group is skipped after a stop
    raise ApplicationHandlerStop


async def start(update: Update, context: Context) -> None:
    """Greet the user and say what the index holds."""
    stats = await context.bot_data.run(context.bot_data.stats)
    if stats is None or not stats.articles:
        known = EMPTY_INDEX
    else:
        span = (
            f" from {stats.first_date[:10]} to {(stats.last_date or stats.first_date)[:10]}"
            if stats.first_date
            else ""
        )
        known = f"I know {stats.articles} articles{span}."
    message = _message(update)
    how = (
        "Just send me a question"
        if message.chat.type == ChatType.PRIVATE
        else f"In this group, mention me (@{escape(context.bot.username or '')}) in your "
        "question or reply to one of my messages"
    )
    await message.reply_html(
        "Hello! I answer questions about the news with sentences quoted from the articles "
        f"I have read, each linked to its source.\n\n{escape(known)}\n\n"
        f"{how}; /help shows examples."
    )


async def help_command(update: Update, context: Context) -> None:
    """Explain how to ask, with examples."""
    await _message(update).reply_html(HELP)


async def stats(update: Update, context: Context) -> None:
    """Show article and chunk counts, the date range and the model."""
    s = await context.bot_data.run(context.bot_data.stats)
    if s is None or not s.articles:
        await _message(update).reply_text(EMPTY_INDEX)
        return
    lines = [f"Articles: {s.articles}", f"Chunks: {s.chunks}"]
    if s.first_date:
        lines.append(f"Dates: {s.first_date[:10]} to {(s.last_date or s.first_date)[:10]}")
    lines.append(f"Model: {context.bot_data.settings.embedding.model}")
    await _message(update).reply_text("\n".join(lines))


async def reset(update: Update, context: Context) -> None:
    """Forget the conversation: the whole chat's in private, only the sender's in a group."""
    message, chat = _message(update), _chat_data(context)
    chat.asker = _asker(update)
    private = message.chat.type == ChatType.PRIVATE
    chat.forget(everything=private)
    done = "our conversation" if private else "our conversation (yours only; others keep theirs)"
    await message.reply_text(f"Done: I've forgotten {done}.")


async def unknown_command(update: Update, context: Context) -> None:
    """Hint at /help for a command the bot doesn't have (in groups, only when named)."""
    message = _message(update)
    command, _, target = (message.text or "").split(maxsplit=1)[0].partition("@")
    if target or message.chat.type == ChatType.PRIVATE:  # "/foo" in a group may be another bot's
        await message.reply_text(UNKNOWN_COMMAND.format(command=command))


def _asker(update: Update) -> int:
    """Whose conversation an update belongs to: its sender's (the chat's, without one)."""
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat else 0


async def question(update: Update, context: Context) -> None:
    """Answer a question with quoted sentences and their sources."""
    message = _message(update)
    text = question_text(message)
    if not text:
        await message.reply_text("Yes? Ask me a question about the news.")
        return
    await ask_and_reply(message, update, context, text)


async def ask_and_reply(message: Message, update: Update, context: Context, text: str) -> None:
    """Answer `text` in the sender's conversation, within their question rate."""
    user = _user_data(context)
    per_minute = context.bot_data.settings.telegram.questions_per_minute
    # counted in the shared state, so the limit holds across replicas (off the loop: the
    # count may wait for another replica's write); unreachable state lets the question by
    asker = update.effective_user.id if update.effective_user else message.chat_id
    within = True
    with contextlib.suppress(SQLAlchemyError):
        within = await asyncio.to_thread(context.bot_data.state.take_question, asker, per_minute)
    if not within:
        if not user.warned:
            user.warned = True
            await message.reply_text(SLOW_DOWN.format(n=per_minute))
        return
    user.warned = False
    chat = _chat_data(context)
    chat.asker = asker
    history = context.bot_data.settings.answer.history_turns
    prompt = (chat.conversation or Conversation(history)).clarification(text)
    if prompt is not None:  # nothing to search for: no retrieval, no turn, no Sources
        await message.reply_text(prompt, do_quote=True)
        return
    if context.bot_data.streams:
        await stream_answer(message, context, text, chat)
        return
    async with typing(context.bot, message.chat_id):
        answer = await context.bot_data.run(context.bot_data.answer, text, chat)
    await send_answer(message, answer, chat.remember(answer))


async def send_answer(message: Message, answer: Answer, key: int) -> None:
    """Reply with the answer, split if long; the Sources button goes under the last part."""
    parts = answer_parts(answer) or [(escape(NOT_FOUND), NOT_FOUND)]
    for i, (html, plain) in enumerate(parts):
        last = i == len(parts) - 1
        markup = sources_button(key) if last and answer.citations else None
        await reply_html(message, html, plain, markup=markup, quote=i == 0)


async def on_error(update: object, context: Context) -> None:
    """Log the error with its traceback and apologise to the user."""
    error = context.error
    if isinstance(error, EmptyIndexError):
        log.info("a question arrived while the index is empty")
        text = EMPTY_INDEX
    elif isinstance(error, StoreUnavailableError):
        log.warning("%s", error)
        text = UNAVAILABLE
    elif isinstance(error, RetryAfter):
        log.warning("Telegram's flood limit: retry after %s", error.retry_after)
        return
    elif isinstance(error, NetworkError) and update is None:
        log.warning("the Bot API is unreachable: %s", error)
        return
    else:
        log.error(
            "error while handling update %s", getattr(update, "update_id", None), exc_info=error
        )
        text = APOLOGY
    if isinstance(update, Update) and update.effective_message:
        with contextlib.suppress(TelegramError):
            await update.effective_message.reply_text(text, do_quote=True)
