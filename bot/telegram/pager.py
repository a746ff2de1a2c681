"""The Sources pager in Telegram: /sources, and the Sources and prev/next buttons.

The buttons' data names the answer by its key (citations.py); the chat's recent
answers come from the shared state, so a button works on whichever replica gets it.
"""

import logging

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.telegram.citations import page_markup, page_text, parse_callback
from bot.telegram.delivery import edit_html, reply_html
from bot.telegram.state import ChatData, Context

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def chat_of(context: Context) -> ChatData:
    """The chat's state (every update the pager handles comes from a chat)."""
    if context.chat_data is None:
        raise ValueError("update without a chat")
    return context.chat_data


async def sources(update: Update, context: Context) -> None:
    """Show the sources of the last answer, one per page."""
    message = update.effective_message
    if message is None:
        return
    last = chat_of(context).last()
    if last is None:
        await message.reply_text("No answer yet: ask me a question first.")
        return
    key, answer = last
    if not answer.citations:
        await message.reply_text("The last answer has no sources.")
        return
    html, plain = page_text(answer.citations, 1)
    markup = page_markup(key, 1, len(answer.citations))
    await reply_html(message, html, plain, markup=markup)


async def sources_page(update: Update, context: Context) -> None:
    """Open or turn a page of an answer's sources."""
    query = update.callback_query
    if query is None:
        return
    request = parse_callback(query.data or "")
    answer = chat_of(context).answers.get(request.key) if request else None
    if request is None or answer is None or not answer.citations:
        await query.answer("Those sources are no longer available; please ask again.")
        return
    await query.answer()
    page = min(max(request.page, 1), len(answer.citations))
    html, plain = page_text(answer.citations, page)
    markup = page_markup(request.key, page, len(answer.citations))
    if not request.opens_pager or not isinstance(query.message, Message):
        await edit_html(query, html, plain, markup)
        return
    chat = chat_of(context)
    card = chat.pagers.get(request.key)
    if card is not None and await _show_card(context, query.message.chat_id, card, html, markup):
        return
    sent = await reply_html(query.message, html, plain, markup=markup, quote=True)
    chat.pagers[request.key] = sent.message_id


async def _show_card(
    context: Context, chat_id: int, card: int, html: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Turn an answer's open Sources card back to page 1; False when it is gone."""
    try:
        await context.bot.edit_message_text(
            html,
            chat_id=chat_id,
            message_id=card,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=_NO_PREVIEW,
        )
    except BadRequest as error:
        if "message is not modified" in error.message.lower():
            return True
        log.info("the open Sources card %s can't be edited (%s); sending a new one", card, error)
        return False
    return True
