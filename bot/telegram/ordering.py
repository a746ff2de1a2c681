"""Updates run concurrently across chats and one at a time, in arrival order, within a chat.

PTB starts one task per update in arrival order, and each reaches `do_process_update`
without suspending first, so each chat's `asyncio.Lock` (which wakes waiters first in,
first out) is taken in arrival order. Waiting updates are cheap coroutines; the CPU-bound
work is bounded by the answer thread pool, not here. PTB holds one of
`max_concurrent_updates` slots while an update waits for its chat, so the limit is set
well above what one busy chat can queue.
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 4096


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Serialises the updates of each chat; different chats proceed concurrently."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Process the update once the chat's earlier updates are done."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._queued[chat.id] = self._queued.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._queued[chat.id] -= 1
            if not self._queued[chat.id]:  # nobody else waits: drop the chat's lock
                del self._queued[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
