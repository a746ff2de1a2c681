"""Documents sent to the bot: an admin's file is downloaded, ingested and answerable at once.

Which documents are taken: every document in a private chat; in a group only one meant
for the bot, that is one replying to the bot's message or whose caption mentions it
(documents rarely carry a mention, so others in a group are left alone, silently). Of
those, an admin's file (`telegram.admin_user_ids`) of a type the loaders read is
checked against `telegram.max_document_mb` before it is downloaded; anyone else gets
the admins-only refusal. The file goes to a private temporary directory under its own
(sanitised) name, since the loaders read its extension and the date in its name, and
is ingested in `BotData.writer`, off the event loop, like /add. Progress and the result
are one message, edited as the work proceeds.
"""

import logging
import mimetypes
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from telegram import Document, Message, MessageEntity, Update
from telegram.error import BadRequest
from telegram.ext import Application, MessageHandler, filters

from bot.telegram import alerts
from bot.telegram.access import is_addressed
from bot.telegram.admin import StatusMessage, admin_message, reply_status
from bot.telegram.state import BotData, Context
from index.errors import NewsbotError
from index.ingest.batches import IngestReport
from index.ingest.loaders import SUPPORTED
from index.ingest.pipeline import ingest_paths

log = logging.getLogger(__name__)

UNSUPPORTED = "Sorry, I can't read {kind} files. Send one of: {types}."
TOO_LARGE = (
    "Sorry, {name} is {size:.1f} MB, over the {limit:g} MB limit for documents sent to me "
    "(telegram.max_document_mb)."
)
_UNSAFE = re.compile(r"[^\w.\- ]+")
_MAX_STEM = 100


def register(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Add the handler for documents."""
    wanted = filters.UpdateType.MESSAGE & filters.Document.ALL & _FOR_THE_BOT
    application.add_handler(MessageHandler(wanted, document))


def _mentions_bot(message: Message) -> bool:
    """Whether the message's caption mentions the bot."""
    bot = message.get_bot()
    username = f"@{bot.username or ''}".lower()
    for entity, text in message.parse_caption_entities().items():
        if entity.type == MessageEntity.MENTION and text.lower() == username:
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
    return False


class _ForTheBot(filters.MessageFilter):
    """Documents meant for the bot: private, a reply to the bot, or a caption mentioning it."""

    def filter(self, message: Message) -> bool:
        return is_addressed(message) or _mentions_bot(message)


_FOR_THE_BOT = _ForTheBot(name="FOR_THE_BOT")


async def document(update: Update, context: Context) -> None:
    """Ingest an admin's document and report the outcome in one message."""
    message = await admin_message(update, context)
    if message is None or message.document is None:
        return
    file = message.document
    name = safe_name(file.file_name, file.mime_type)
    refusal = _refusal(file, name, context.bot_data.settings.telegram.max_document_mb)
    if refusal:
        await message.reply_text(refusal, do_quote=True)
        return
    data = context.bot_data
    status = await reply_status(message, f"Downloading {name}…")
    with tempfile.TemporaryDirectory(prefix="newsbot-upload-", ignore_cleanup_errors=True) as tmp:
        path = Path(tmp) / name
        try:
            await (await file.get_file()).download_to_drive(path)
        except BadRequest as exc:  # e.g. over the Bot API's own limit when no size was given
            await status.finish(f"Couldn't download {name}: {exc.message}")
            return
        status.update(f"Ingesting {name}…")
        try:
            report = await data.write(_ingest_and_reload, data, path, _Progress(name, status))
        except NewsbotError as exc:
            await status.finish(f"Couldn't ingest {name}: {exc}")
            return
    await status.finish(describe(report, name, path))
    await alerts.after_ingest(context.application, report.added)


def safe_name(file_name: str | None, mime_type: str | None) -> str:
    """The file's name without folders or odd characters, keeping its extension."""
    name = _UNSAFE.sub("_", PurePosixPath((file_name or "").replace("\\", "/")).name)
    name = name.strip(" ._")
    if not Path(name).stem:
        name = "document" + (mimetypes.guess_extension(mime_type or "") or "")
    stem, suffix = Path(name).stem, Path(name).suffix
    return stem[:_MAX_STEM] + suffix


def _refusal(file: Document, name: str, limit_mb: float) -> str | None:
    """Why this document is not taken (type, then size), or None."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        kind = suffix or "extensionless"
        return UNSUPPORTED.format(kind=kind, types=", ".join(sorted(SUPPORTED)))
    if file.file_size is not None and file.file_size > limit_mb * 1_000_000:
        return TOO_LARGE.format(name=name, size=file.file_size / 1_000_000, limit=limit_mb)
    return None


def _ingest_and_reload(data: BotData, path: Path, progress: "_Progress") -> IngestReport:
    report = ingest_paths(data.settings, [path], progress)
    if report.new or report.updated:
        data.reload_index()
    return report


def describe(report: IngestReport, name: str, path: Path) -> str:
    """What ingesting the file did, in a line, and a line for each thing skipped in it."""
    changed = [
        _count(report.new, "new article"),
        _count(report.updated, "updated article"),
        _count(report.unchanged, "unchanged"),
        _count(report.chunks, "chunk"),
    ]
    skipped = report.problems + report.duplicates
    lines = [f"skipped {_located(str(p), name, path)}" for p in skipped]
    lines += [f"note {_located(str(n), name, path)}" for n in report.notes]
    if report.new or report.updated:
        first = f"Ingested {name}: " + ", ".join(c for c in changed if c)
    elif report.unchanged:
        first = f"{name} is already in the index, unchanged."
    elif report.duplicates and not report.problems:
        first = f"{name} is already in the index: {report.duplicates[0].reason}."
        lines = lines[1:]
    elif len(skipped) == 1:
        return f"Couldn't ingest {name}: {skipped[0].reason}"
    else:
        first = f"Couldn't ingest {name}: nothing in it could be read."
    return "\n".join([first, *lines])


def _count(n: int, what: str) -> str:
    plural = "s" if n != 1 and what != "unchanged" else ""
    return f"{n} {what}{plural}" if n else ""


def _located(text: str, name: str, path: Path) -> str:
    """A problem line with the temporary path replaced by the file's name."""
    return text.replace(str(path.resolve()), name).replace(str(path), name)


class _Progress:
    """`IngestProgress` shown in the status message: chunks embedded of those cut."""

    def __init__(self, name: str, status: StatusMessage) -> None:
        self.name = name
        self.status = status
        self.planned = 0
        self.embedded = 0

    def files_found(self, count: int) -> None: ...
    def file_done(self, path: Path) -> None: ...
    def articles_found(self, count: int) -> None: ...
    def article_done(self) -> None: ...
    def chunks_stored(self, count: int) -> None: ...

    def chunks_planned(self, count: int) -> None:
        self.planned += count

    def chunks_embedded(self, count: int) -> None:
        self.embedded += count
        self.status.update(f"Ingesting {self.name}: {self.embedded} of {self.planned} chunks…")
