"""Each update is handled once, and a chat's updates one at a time, across replicas.

Within a replica, PTB starts one task per update in arrival order, and each reaches
`do_process_update` without suspending first, so each chat's `asyncio.Lock` (which
wakes waiters first in, first out) is taken in arrival order. Then, in the shared state:

- the update's id is claimed (one insert), so an update Telegram retries because its
  first delivery timed out is answered once, by whichever replica claimed it;
- the chat's lease is taken (`chat:<id>`, renewed while the update runs), so a replica
  that gets the chat's next update waits until this one's state is saved; a replica
  that died frees its chats when their leases run out (`LEASE_S`).

When the state can't be reached, the update is handled anyway (logged): an answer
matters more than its ordering. Waiting updates are cheap coroutines; PTB holds one of
`max_concurrent_updates` slots while an update waits, so the limit is set high.
"""

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Coroutine
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.state import StateStore

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 4096
LEASE_S = 60.0  # a chat's lease lasts this long unless renewed (renewed every third)
_WAITS_S = (0.02, 0.05, 0.1, 0.2, 0.5)  # between tries for a held lease, then 0.5 s


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs each update once, serialising each chat's; different chats run concurrently."""

    def __init__(
        self, state: StateStore, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.state = state
        self.me = f"{socket.gethostname()}:{os.getpid()}"
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Process the update once the chat's earlier updates, here and elsewhere, are done."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await self._once(update, coroutine)
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._queued[chat.id] = self._queued.get(chat.id, 0) + 1
        try:
            async with lock:
                await self._once(update, coroutine, chat.id)
        finally:
            self._queued[chat.id] -= 1
            if not self._queued[chat.id]:  # nobody else waits: drop the chat's lock
                del self._queued[chat.id], self._locks[chat.id]

    async def _once(
        self, update: object, coroutine: Awaitable[Any], chat_id: int | None = None
    ) -> None:
        """Run the update unless another replica took it; under the chat's lease."""
        update_id = update.update_id if isinstance(update, Update) else None
        try:
            if update_id is not None and not await asyncio.to_thread(
                self.state.take_update, _bot_id(update), update_id
            ):
                log.info("update %s was taken before (a retried delivery): skipped", update_id)
                if isinstance(coroutine, Coroutine):
                    coroutine.close()
                return
        except SQLAlchemyError as exc:
            log.warning("update %s not claimed, the state is unreachable: %s", update_id, exc)
        if chat_id is None:
            await coroutine
            return
        name, holder = f"chat:{chat_id}", f"{self.me}:{update_id}"
        leased = await self._lease(name, holder)
        renewing = asyncio.create_task(self._renew(name, holder)) if leased else None
        try:
            await coroutine
        finally:
            if renewing is not None:
                renewing.cancel()
                await asyncio.to_thread(self._free, name, holder)

    async def _lease(self, name: str, holder: str) -> bool:
        """Wait for the chat's lease; False when the state is unreachable (go on without)."""
        tries = 0
        while True:
            try:
                if await asyncio.to_thread(self.state.take_lease, name, holder, LEASE_S):
                    return True
            except SQLAlchemyError as exc:
                log.warning("%s: no lease, the state is unreachable: %s", name, exc)
                return False
            await asyncio.sleep(_WAITS_S[min(tries, len(_WAITS_S) - 1)])
            tries += 1

    async def _renew(self, name: str, holder: str) -> None:
        """Keep the lease while the update runs (an LLM answer may outlast `LEASE_S`)."""
        while True:
            await asyncio.sleep(LEASE_S / 3)
            try:
                await asyncio.to_thread(self.state.take_lease, name, holder, LEASE_S)
            except SQLAlchemyError as exc:
                log.warning("%s: lease not renewed: %s", name, exc)

    def _free(self, name: str, holder: str) -> None:
        try:
            self.state.free_lease(name, holder)
        except SQLAlchemyError as exc:  # it runs out by itself
            log.warning("%s: lease not freed: %s", name, exc)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def _bot_id(update: object) -> int:
    """The id of the bot an update came to (0 for an update built without one)."""
    try:
        return update.get_bot().id if isinstance(update, Update) else 0
    except RuntimeError:
        return 0
