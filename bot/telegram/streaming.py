"""Streaming an LLM answer: one message, edited as checked sentences arrive, then the answer.

The service's generator runs in the answer thread pool and hands each piece to the event
loop through an `asyncio.Queue`. "typing…" shows until the first text; the first message
is then sent and edited with the text so far at most once every `EDIT_EVERY_S`. The final
edit turns it into part 1 of the formatted answer (citation links, Sources button on the
last part); further parts follow as new messages.

The streamed text is the answer's sentences that have passed the grounding check, one
by one (bot/llm/sentence_gate.py); a sentence that fails is never sent. The final
answer may keep the draft, replace it with the labelled extractive answer, or turn it
into an abstention. Either way the chat ends with one answer, never the draft beside
another: a draft that can't be edited is deleted and the answer sent instead, and a
draft whose answer failed is deleted before the error handler apologises.
"""

import asyncio
import logging
import threading
from typing import Final

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.answer import NOT_FOUND, Answer
from bot.telegram.citations import sources_button
from bot.telegram.delivery import reply_html, typing
from bot.telegram.formatting import MAX_MESSAGE_LENGTH, answer_parts, clip, escape
from bot.telegram.state import ChatData, Context

log = logging.getLogger(__name__)

EDIT_EVERY_S = 1.5  # Telegram throttles frequent edits of one message
FALLBACK_LABEL = "Extractive answer"
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_END: Final = object()  # the generator finished


def preview(text: str) -> str:
    """The streamed text so far as it fits in one message."""
    return clip(text.strip(), MAX_MESSAGE_LENGTH)


def final_parts(answer: Answer) -> list[tuple[str, str]]:
    """The answer's messages (html, plain); an extractive fallback is labelled as such."""
    if answer.mode != "extractive-fallback":
        return answer_parts(answer) or [(escape(NOT_FOUND), NOT_FOUND)]
    label = f"{FALLBACK_LABEL} ({answer.notice})" if answer.notice else FALLBACK_LABEL
    parts = answer_parts(answer, MAX_MESSAGE_LENGTH - len(label) - 2) or [
        (escape(NOT_FOUND), NOT_FOUND)
    ]
    (html, plain), rest = parts[0], parts[1:]
    return [(f"<i>{escape(label)}</i>\n\n{html}", f"{label}\n\n{plain}"), *rest]


async def edit_message(
    message: Message, html: str, plain: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit a message to HTML; plain text if rejected; 'message is not modified' is ignored."""
    try:
        await message.edit_text(
            html, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=_NO_PREVIEW
        )
    except BadRequest as error:
        if "message is not modified" in error.message.lower():
            return
        if "can't parse entities" not in error.message.lower():
            raise
        log.warning("Telegram rejected our HTML (%s); sending plain text", error.message)
        await message.edit_text(plain, reply_markup=markup)


async def stream_answer(message: Message, context: Context, text: str, chat: ChatData) -> None:
    """Answer `text` in the chat, showing the LLM's text as it is written."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()

    def produce() -> None:  # in the answer thread pool
        try:
            for item in context.bot_data.stream(text, chat):
                loop.call_soon_threadsafe(queue.put_nowait, item)
                if stop.is_set():
                    break
            loop.call_soon_threadsafe(queue.put_nowait, _END)
        except BaseException as exc:  # handed to the handler, which raises it
            loop.call_soon_threadsafe(queue.put_nowait, exc)

    async def receive(timeout: float | None = None) -> object:
        try:
            item = await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            return None
        if isinstance(item, BaseException):
            raise item
        if item is _END:
            raise RuntimeError("the answer stream ended without an answer")
        return item

    worker = loop.run_in_executor(context.bot_data.executor, produce)
    sent: Message | None = None  # the draft, until the final answer replaces it
    try:
        streamed = ""
        async with typing(context.bot, message.chat_id):
            item = await receive()
            while isinstance(item, str):
                streamed += item
                if streamed.strip():
                    break
                item = await receive()
        if isinstance(item, str):
            shown = preview(streamed)
            sent = await reply_html(message, escape(shown), shown, quote=True)
            edited_at = loop.time()
            while True:
                pending = preview(streamed) != shown
                wait = edited_at + EDIT_EVERY_S - loop.time()
                if pending and wait <= 0:
                    shown = preview(streamed)
                    edited_at = loop.time()
                    await _edit_progress(sent, shown)
                    continue
                item = await receive(wait if pending else None)
                if isinstance(item, str):
                    streamed += item
                elif item is not None:
                    break
        if not isinstance(item, Answer):
            raise TypeError(f"the answer stream yielded {type(item).__name__}")
        draft, sent = sent, None
        await deliver(message, draft, item, chat.remember(item))
    except Exception:
        if sent is not None:  # no answer replaced the unchecked text: don't leave it standing
            await _withdraw(sent)
        raise
    finally:
        stop.set()
        await asyncio.wait([worker])  # the conversation is extended after the final Answer


async def _edit_progress(sent: Message, shown: str) -> None:
    """An in-progress edit: cosmetic, so Telegram errors are logged, not raised."""
    try:
        await edit_message(sent, escape(shown), shown)
    except RetryAfter as error:
        log.warning("Telegram's flood limit while streaming: retry after %s", error.retry_after)
    except TelegramError as error:
        log.debug("streaming edit failed: %s", error)


async def deliver(message: Message, sent: Message | None, answer: Answer, turn: int) -> None:
    """The final answer: part 1 replaces the streamed message (or is sent), the rest follow."""
    parts = final_parts(answer)
    for i, (html, plain) in enumerate(parts):
        last = i == len(parts) - 1
        markup = sources_button(turn) if last and answer.citations else None
        if i == 0 and sent is not None:
            await _replace(message, sent, html, plain, markup)
        else:
            await reply_html(message, html, plain, markup=markup, quote=i == 0)


async def _replace(
    message: Message, sent: Message, html: str, plain: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Edit the draft into the answer's first part; if Telegram refuses (the message was
    deleted, or is too old to edit), delete what is left of it and send the part instead."""
    try:
        await edit_message(sent, html, plain, markup)
    except BadRequest as error:
        log.warning("the streamed message can't be edited (%s); sending the answer", error)
        await _withdraw(sent)
        await reply_html(message, html, plain, markup=markup, quote=True)


async def _withdraw(sent: Message) -> None:
    """Delete a draft; if that fails too, there is nothing more to do than log it."""
    try:
        await sent.delete()
    except TelegramError as error:
        log.warning("the streamed message %s can't be deleted: %s", sent.message_id, error)
