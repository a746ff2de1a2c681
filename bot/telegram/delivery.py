"""Sending messages: HTML with a plain-text fallback, and "typing…" while the bot works."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4.0  # Telegram shows a chat action for about 5 seconds
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


_GONE = ("chat not found", "bot was kicked", "group chat was deleted", "user is deactivated")


def chat_gone(error: TelegramError) -> bool:
    """Whether a send failed because the chat blocked the bot or no longer exists."""
    return isinstance(error, Forbidden) or (
        isinstance(error, BadRequest) and any(g in error.message.lower() for g in _GONE)
    )


def _rejected_html(error: BadRequest) -> bool:
    return "can't parse entities" in error.message.lower()


async def reply_html(
    message: Message,
    html: str,
    plain: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    quote: bool = False,
) -> Message:
    """Reply in the message's chat with HTML; resend as plain text if Telegram rejects it."""
    try:
        return await message.reply_text(
            html,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            do_quote=quote,
            link_preview_options=_NO_PREVIEW,
        )
    except BadRequest as error:
        if not _rejected_html(error):
            raise
        log.warning("Telegram rejected our HTML (%s); sending plain text", error.message)
        return await message.reply_text(plain, reply_markup=markup, do_quote=quote)


async def edit_html(
    query: CallbackQuery, html: str, plain: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Edit the query's message to HTML; plain text if rejected; a repeated press is no-op."""
    try:
        await query.edit_message_text(
            html, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=_NO_PREVIEW
        )
    except BadRequest as error:
        if "message is not modified" in error.message.lower():
            return
        if not _rejected_html(error):
            raise
        log.warning("Telegram rejected our HTML (%s); sending plain text", error.message)
        await query.edit_message_text(plain, reply_markup=markup)


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int, every_s: float = TYPING_EVERY_S) -> AsyncIterator[None]:
    """Show "typing…" in the chat while the block runs, repeated every `every_s`.

    The first action is sent alongside the work and always completes before the block
    is left, so it can neither be lost to a fast answer nor arrive after the answer.
    """

    async def show() -> None:
        try:
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as error:  # cosmetic: never fail the answer over it
            log.debug("chat action failed in chat %s: %s", chat_id, error)

    async def repeat() -> None:
        while True:
            await asyncio.sleep(every_s)
            await show()

    first = asyncio.create_task(show(), name=f"typing:{chat_id}")
    repeating = asyncio.create_task(repeat(), name=f"typing-repeat:{chat_id}")
    try:
        yield
    finally:
        repeating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await repeating
        await first
