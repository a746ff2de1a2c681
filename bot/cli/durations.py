"""Durations as people write them: 90s, 30m, 2h, 1h30m, 1d."""

import re

from index.errors import NewsbotError

_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as '30m' or '1h30m'; NewsbotError when malformed."""
    compact = text.strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise NewsbotError(f"can't read the interval '{text}'; write e.g. 90s, 30m, 2h or 1h30m")
    seconds = sum(float(n) * _SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise NewsbotError("the interval must be longer than zero")
    return seconds
