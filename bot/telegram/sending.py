"""Telegram's bot-wide send limit, kept by all replicas together.

python-telegram-bot's `AIORateLimiter` keeps the limits inside one process: about 30
messages a second overall and 20 a minute per group, and it retries after a flood
error. With several replicas each would allow the full 30. `SharedRateLimiter` first
takes a token from a bucket in the shared state (bot/state/budget.py) for each call
that sends or edits a message, then hands the call to `AIORateLimiter`, which still
keeps the per-group limit and the retries. When the shared state can't be reached,
calls go on under the local limits alone (logged once).
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bot.state import StateStore
from bot.state.budget import SendBudget

log = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 30.0  # Telegram's limit per bot, all chats together
_SENDING = ("send", "edit", "copy", "forward")  # endpoints that count against it


class SharedRateLimiter(BaseRateLimiter[int]):
    """The shared per-bot budget, then python-telegram-bot's own limiter."""

    def __init__(self, state: StateStore, max_retries: int) -> None:
        self.budget = SendBudget(state, "telegram-sends", MESSAGES_PER_SECOND, MESSAGES_PER_SECOND)
        self.local = AIORateLimiter(max_retries=max_retries)
        self._warned = False

    async def initialize(self) -> None:
        """Set up the local limiter."""
        await self.local.initialize()

    async def shutdown(self) -> None:
        """Shut the local limiter down."""
        await self.local.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a shared token if the call sends, then go through the local limiter."""
        if endpoint.lower().startswith(_SENDING) and endpoint != "sendChatAction":
            await self._token()
        return await self.local.process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

    async def _token(self) -> None:
        """Wait until the shared bucket gives this replica a token."""
        while True:
            try:
                wait = await asyncio.to_thread(self.budget.take)
            except SQLAlchemyError as exc:
                if not self._warned:
                    log.warning("the shared send limit is unreachable; local limits only: %s", exc)
                    self._warned = True
                return
            if wait <= 0.0:
                self._warned = False
                return
            await asyncio.sleep(wait)
