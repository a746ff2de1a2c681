"""Who may use the bot, and which messages in a group are meant for it."""

import re

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import filters

from bot.config import TelegramSettings


def is_allowed(update: Update, settings: TelegramSettings) -> bool:
    """Whether a listed user (admins too) or chat sent the update; empty lists admit all."""
    if not settings.allowed_user_ids and not settings.allowed_chat_ids:
        return True
    user, chat = update.effective_user, update.effective_chat
    return bool(
        (user and user.id in (*settings.allowed_user_ids, *settings.admin_user_ids))
        or (chat and chat.id in settings.allowed_chat_ids)
    )


def is_addressed(message: Message) -> bool:
    """Private messages; in groups a command for the bot, a mention, or a reply to the bot."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    bot = message.get_bot()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot.id:
        return True
    username = (bot.username or "").lower()
    for entity, text in message.parse_entities().items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
        if entity.type == MessageEntity.MENTION and text.lower() == f"@{username}":
            return True
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, _, target = text.partition("@")
            if not target or target.lower() == username:
                return True
    return False


class _Addressed(filters.MessageFilter):
    """Messages meant for the bot (see `is_addressed`)."""

    def filter(self, message: Message) -> bool:
        return is_addressed(message)


ADDRESSED = _Addressed(name="ADDRESSED")


def question_text(message: Message) -> str:
    """The message's text without mentions of the bot, whitespace collapsed."""
    username = message.get_bot().username or ""
    text = message.text or ""
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())
