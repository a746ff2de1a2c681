"""`newsbot telegram`: build the python-telegram-bot Application and run it with long
polling, or as one of several webhook replicas (webhook.py).

The token comes only from TELEGRAM_BOT_TOKEN and the Bot API from TELEGRAM_API_BASE
(default: Telegram's). Answering runs in a pool of `telegram.answer_workers` threads
(plus `llm.max_concurrency` when an HTTP endpoint writes the answers), and state and
alert work in a small pool of its own;
each update runs once, concurrently across chats and in order within a chat, across
replicas (ordering.py). Chat state, question counts, watches and alerts live in the
shared state database (bot/state/: SQLite for one host, Postgres for several).
"""

import logging
import os
import re
import signal
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import ConfigError, Settings
from bot.state import StateStore, Subscriptions, open_database
from bot.telegram import (
    admin,
    alerts,
    arrivals,
    digests,
    handlers,
    leader,
    pager,
    redaction,
    shared,
    uploads,
    watches,
)
from bot.telegram.access import ADDRESSED
from bot.telegram.citations import CALLBACK_PATTERN
from bot.telegram.ordering import ChatOrderedProcessor
from bot.telegram.sending import SharedRateLimiter
from bot.telegram.state import CONTEXT_TYPES, BotData, Context
from bot.telegram.webhook import webhook
from index.errors import NewsbotError
from index.store.catalog import IndexStats

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
API_BASE_VARIABLE = "TELEGRAM_API_BASE"
DEFAULT_API_BASE = "https://api.telegram.org"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_RETRIES_AFTER_FLOOD = 3
# Telegram's default is 40 connections per bot; updates of one chat wait for each other
# (ordering.py) anyway, and fewer connections keep a burst from piling up on replicas
WEBHOOK_CONNECTIONS = 10
WRITER_WAIT_S = 600.0  # the least the bot's writer thread waits for another process's write

NewsApplication = Application[Any, Any, Any, Any, BotData, Any]


def read_token(environ: Mapping[str, str]) -> str:
    """The bot token from the environment; ConfigError (without the value) when unusable."""
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ConfigError(
            f"{TOKEN_VARIABLE} is not set; export the token @BotFather gave you (never put it "
            "in the config file)"
        )
    if not _TOKEN.match(token):
        raise ConfigError(
            f"{TOKEN_VARIABLE} is malformed: expected digits, a colon and at least 20 letters, "
            "digits, '-' or '_', as @BotFather issues them"
        )
    return token


def read_api_base(environ: Mapping[str, str]) -> str:
    """The Bot API base URL, without a trailing slash."""
    base = environ.get(API_BASE_VARIABLE, "").strip().rstrip("/") or DEFAULT_API_BASE
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", base):
        raise ConfigError(f"{API_BASE_VARIABLE} must be an http(s) URL, e.g. {DEFAULT_API_BASE}")
    return base


def waiting_writer(settings: Settings) -> Settings:
    """The bot's settings, waiting at least `WRITER_WAIT_S` for another process's write.

    The bot ingests in a writer thread of its own, off the event loop, so it can wait for
    a cron `newsbot ingest` or another replica's refresh (the write lock, across hosts
    with Postgres) instead of failing an admin's /add, an upload or its own refresh.
    """
    if settings.ingest.lock_timeout_s >= WRITER_WAIT_S:
        return settings
    ingest = settings.ingest.model_copy(update={"lock_timeout_s": WRITER_WAIT_S})
    return settings.model_copy(update={"ingest": ingest})


def build_application(settings: Settings, token: str, api_base: str) -> NewsApplication:
    """The Application with its handlers; nothing heavy happens until post_init."""
    state = open_state(settings)
    application: NewsApplication = (
        Application.builder()
        .token(token)
        .base_url(f"{api_base}/bot")
        .base_file_url(f"{api_base}/file/bot")
        .context_types(CONTEXT_TYPES)
        .rate_limiter(SharedRateLimiter(state, max_retries=_RETRIES_AFTER_FLOOD))
        .concurrent_updates(ChatOrderedProcessor(state))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.settings = waiting_writer(settings)
    application.bot_data.state = state
    application.bot_data.subscriptions = Subscriptions(state)
    application.add_handler(TypeHandler(Update, shared.load_chat), group=-2)
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("sources", pager.sources))
    application.add_handler(CommandHandler("reset", handlers.reset))
    application.add_handler(CommandHandler("stats", handlers.stats))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & ADDRESSED, handlers.question)
    )
    application.add_handler(CallbackQueryHandler(pager.sources_page, pattern=CALLBACK_PATTERN))
    admin.register(application)
    watches.register(application)
    digests.register(application)
    alerts.register(application)
    uploads.register(application)
    # after every command handler: a command none of them took
    application.add_handler(MessageHandler(filters.COMMAND & ADDRESSED, handlers.unknown_command))
    application.add_handler(TypeHandler(Update, shared.save_chat), group=1)
    application.add_error_handler(handlers.on_error)
    return application


def open_state(settings: Settings) -> StateStore:
    """The shared state at `state` (default: SQLite at telegram.state_file), migrated.

    The index's feed list, in the same database, is opened too, so its tables are
    migrated and an old feeds.json is imported at start rather than at the first refresh.
    """
    from index.web.feed_list import feed_list

    state = StateStore(open_database(settings.state_url, settings.state_file))
    feed_list(settings)
    return state


def answer_threads(settings: Settings) -> int:
    """Threads that answer: `telegram.answer_workers` for the CPU's work, plus, when an
    HTTP endpoint writes the answers, one per request it may serve at once
    (`llm.max_concurrency`), since those threads mostly wait on the network."""
    waiting = settings.answer.mode == "llm" and settings.llm.provider in ("openai", "ollama")
    return settings.telegram.answer_workers + (settings.llm.max_concurrency if waiting else 0)


async def post_init(application: NewsApplication) -> None:
    """Start the answer threads, open the index and register the bot's commands."""
    data = application.bot_data
    data.executor = ThreadPoolExecutor(answer_threads(data.settings), thread_name_prefix="answer")
    await data.run(data.warm_up)
    await application.bot.set_my_commands(handlers.COMMANDS)
    await leader.elect(data)  # before the first scheduled refresh asks who leads
    if application.job_queue is not None:
        renew = leader.RENEW_S
        application.job_queue.run_repeating(leader.campaign, renew, first=renew, name="leader")
        every = data.settings.telegram.alert_check_s
        application.job_queue.run_repeating(arrivals.check, every, first=every, name="arrivals")
    heartbeat = data.settings.telegram.heartbeat_file
    if heartbeat is not None and application.job_queue is not None:
        application.job_queue.run_repeating(
            beat,
            data.settings.telegram.heartbeat_every_s,
            first=0,
            data=heartbeat,
            name="heartbeat",
        )
    log.info("@%s is ready for updates", application.bot.username)
    announce(data, application.bot.username, await data.run(data.stats))


def announce(data: BotData, username: str, stats: IndexStats | None) -> None:
    """One INFO line saying what this bot serves, shown whatever `logging.level` is.

    The handlers drop INFO at the default level (WARNING); this one line is handed to
    them directly, so an operator always sees what started.
    """
    settings = data.settings
    held = (
        f"{stats.articles} article{'' if stats.articles == 1 else 's'} ({stats.chunks} chunks) "
        f"in {stats.location}"
        if stats is not None
        else "no index yet"
    )
    state = make_url(settings.state).render_as_string() if settings.state else "SQLite"
    record = log.makeRecord(
        log.name,
        logging.INFO,
        __file__,
        0,
        "@%s serves %s; answer mode %s; shared state %s; %s",
        (username, held, settings.answer.mode, state, "leading" if data.leading else "a replica"),
        None,
    )
    for handler in logging.getLogger().handlers:
        handler.handle(record)


async def beat(context: Context) -> None:
    """Touch the heartbeat file: the event loop is alive and running jobs."""
    if context.job is not None:
        Path(str(context.job.data)).touch()


async def post_shutdown(application: NewsApplication) -> None:
    """Stop the answer threads."""
    executor = getattr(application.bot_data, "executor", None)
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)
    application.bot_data.writer.shutdown(wait=True, cancel_futures=True)
    application.bot_data.chores.shutdown(wait=True, cancel_futures=True)
    application.bot_data.state.close()
    log.info("stopped")


def run(settings: Settings, webhook_url: str | None = None, listen: str = "0.0.0.0:8443") -> None:
    """Run the bot until SIGINT or SIGTERM: long polling, or a webhook server."""
    token = read_token(os.environ)
    api_base = read_api_base(os.environ)
    hook = (
        webhook(webhook_url, listen, settings.telegram.webhook_secret_env, os.environ)
        if webhook_url
        else None
    )
    secrets = [hook.secret] if hook else []  # PTB logs setWebhook's secret_token at DEBUG
    secrets.append(os.environ.get(settings.store.auth_token_env, "").strip())
    token_filter = redaction.install(token, debug=settings.logging.level == "DEBUG", others=secrets)
    application = build_application(settings, token, api_base)
    log.info("connecting to the Bot API at %s", api_base)
    updates = [Update.MESSAGE, Update.CALLBACK_QUERY]
    stop = (signal.SIGINT, signal.SIGTERM)
    try:
        if hook is None:
            application.run_polling(allowed_updates=updates, stop_signals=stop)
        else:
            log.info("listening for webhook updates on %s:%d", hook.host, hook.port)
            application.run_webhook(
                listen=hook.host,
                port=hook.port,
                url_path=hook.url_path,
                webhook_url=hook.url,
                secret_token=hook.secret,
                max_connections=WEBHOOK_CONNECTIONS,
                allowed_updates=updates,
                stop_signals=stop,
            )
    except InvalidToken:
        raise ConfigError(f"the Bot API at {api_base} rejected {TOKEN_VARIABLE}") from None
    except TelegramError as exc:
        raise NewsbotError(
            f"the Bot API at {api_base} failed: {token_filter.redact(str(exc))}"
        ) from None
