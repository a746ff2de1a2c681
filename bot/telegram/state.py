"""What the bot keeps: shared services (bot_data), per-chat and per-user state.

PTB creates these objects itself (see `CONTEXT_TYPES`), so they take no arguments;
`BotData.settings` is filled in when the Application is built and the thread pool in
`post_init`. Per-chat state is only touched by one update at a time (see ordering.py),
which is what makes it safe for a worker thread to extend a chat's conversation.
"""

import asyncio
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TypeVar

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.answer import Answer
from bot.config import Settings
from bot.conversation import Conversation
from bot.service import AnsweringService
from bot.state import StateStore, Subscriptions
from index.errors import EmptyIndexError, StoreUnavailableError
from index.search.periods import mentioned_period
from index.store.catalog import IndexStats

log = logging.getLogger(__name__)

T = TypeVar("T")
KEPT_ANSWERS = 20  # answers per chat whose Sources buttons keep working
CHORE_THREADS = 2


class BotData:
    """Services shared by every handler."""

    settings: Settings
    executor: ThreadPoolExecutor
    state: StateStore  # chats, question counts, updates and leases shared by every replica
    subscriptions: Subscriptions  # watches, alerts and digests, in the same database

    def __init__(self) -> None:
        self.leading = False  # whether this replica holds the leader's lease (leader.py)
        self.seen_generation: str | None = None  # the index's marker arrivals.py last saw
        self.arrived: dict[str, float] = {}  # ids arrivals.py planned -> their ingest time
        self._service: AnsweringService | None = None
        self._opening = threading.Lock()
        # one thread for fetching and ingesting news sources: refreshes run one at a
        # time and never take an answer thread
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="ingest")
        # watches, alerts, digests' bookkeeping and the leader's lease: small jobs that
        # must not queue behind slow answers
        self.chores = ThreadPoolExecutor(CHORE_THREADS, thread_name_prefix="chores")

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run blocking work in the answer thread pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def chore(self, function: Callable[..., T], *args: object) -> T:
        """Run state and alert work in its own small pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.chores, function, *args)

    async def write(self, function: Callable[..., T], *args: object) -> T:
        """Run fetching and ingest in the writer thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.writer, function, *args)

    async def forget_chat(self, chat_id: int, reason: str) -> None:
        """Drop the watches and digest of a chat that blocked the bot or is gone."""
        log.info("dropping the watches and digest of chat %s: %s", chat_id, reason)
        await self.chore(self.subscriptions.drop_chat, chat_id)

    def reload_index(self) -> None:
        """After an ingest by this process: make the new articles answerable now."""
        with self._opening:
            service = self._service
        if service is not None:  # otherwise the next question opens the index afresh
            service.reopen_index()

    def service(self) -> AnsweringService:
        """The answering service, opened on first use; EmptyIndexError while there is no index."""
        with self._opening:
            if self._service is None:
                self._service = AnsweringService.open(self.settings)
            return self._service

    def warm_up(self) -> None:
        """Open the service (and the date reader) now, so the first question doesn't wait."""
        mentioned_period("last week", date.today())
        try:
            self.service()
        except (EmptyIndexError, StoreUnavailableError) as exc:
            log.warning("starting without an index: %s", exc)

    def stats(self) -> IndexStats | None:
        """What the index holds, or None when there is no index yet."""
        try:
            return self.service().stats()
        except EmptyIndexError:
            return None

    def answer(self, question: str, chat: "ChatData") -> Answer:
        """Answer in the chat's conversation (blocking: call through `run`)."""
        service, conversation = self._in_conversation(chat)
        return service.ask(question, conversation)

    @property
    def streams(self) -> bool:
        """Whether answers are written by the LLM and worth streaming (`answer.mode: llm`)."""
        return self.settings.answer.mode == "llm"

    def stream(self, question: str, chat: "ChatData") -> Iterator[str | Answer]:
        """Like `answer`, but yield the LLM's text pieces, then the `Answer` (blocking)."""
        service, conversation = self._in_conversation(chat)
        yield from service.stream(question, conversation)

    def _in_conversation(self, chat: "ChatData") -> tuple[AnsweringService, Conversation]:
        """The service and the chat's conversation (started if new)."""
        service = self.service()
        conversation = chat.conversation
        if conversation is None:
            conversation = chat.conversation = service.new_conversation()
        return service, conversation


class ChatData:
    """One chat's conversations and its recent answers, by key (see `remember`).

    A private chat has one conversation; in a group each member has their own, so one
    member's questions (or /reset) never change what another's follow-ups lean on.
    `asker` is the member the current update is from (set by the handler, not saved).
    """

    def __init__(self) -> None:
        self.conversations: dict[int, Conversation] = {}
        self.asker = 0
        self.answers: dict[int, Answer] = {}
        self.pagers: dict[int, int] = {}  # answer key -> message id of its open Sources card
        self.turns = 0
        self.refused = False

    @property
    def conversation(self) -> Conversation | None:
        """The current asker's conversation, if they have one."""
        return self.conversations.get(self.asker)

    @conversation.setter
    def conversation(self, conversation: Conversation) -> None:
        self.conversations[self.asker] = conversation

    def remember(self, answer: Answer) -> int:
        """Keep an answer for its Sources button; returns the answer's key.

        The key is random, not the turn's number: two answers of one chat written at
        once (on two replicas) never share a key, so a button always opens its own
        answer's sources.
        """
        self.turns += 1
        key = secrets.randbits(40) + 1
        self.answers[key] = answer
        for old in list(self.answers)[:-KEPT_ANSWERS]:  # oldest first
            del self.answers[old]
            self.pagers.pop(old, None)
        return key

    def last(self) -> tuple[int, Answer] | None:
        """The latest answer and its key."""
        if not self.answers:
            return None
        key = next(reversed(self.answers))
        return key, self.answers[key]

    def forget(self, everything: bool = True) -> None:
        """Forget the asker's conversation; with `everything`, every conversation and answer."""
        if not everything:
            self.conversations.pop(self.asker, None)
            return
        self.conversations.clear()
        self.answers.clear()
        self.pagers.clear()


class UserData:
    """Whether this replica has told the user to slow down (the count is shared: shared.py)."""

    def __init__(self) -> None:
        self.warned = False


Context = CallbackContext[ExtBot[None], UserData, ChatData, BotData]
CONTEXT_TYPES = ContextTypes(
    context=CallbackContext, bot_data=BotData, chat_data=ChatData, user_data=UserData
)
