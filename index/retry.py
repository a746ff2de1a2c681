"""Retrying with exponential backoff, for Chroma server calls and web fetches alike."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def with_backoff(
    call: Callable[[], T],
    *,
    retries: int,
    backoff_s: float,
    retry_on: tuple[type[BaseException], ...],
    what: str,
    level: int = logging.WARNING,
) -> T:
    """Run `call`; on `retry_on` errors try again up to `retries` times, waiting
    `backoff_s`, then twice that, and so on. The last error is raised."""
    attempt = 0
    while True:
        try:
            return call()
        except retry_on as exc:
            if attempt >= retries:
                raise
            delay = backoff_s * 2**attempt
            attempt += 1
            log.log(level, "%s failed (%s); retry %d in %.1fs", what, exc, attempt, delay)
            time.sleep(delay)
