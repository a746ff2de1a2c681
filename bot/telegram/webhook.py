"""Webhook mode: several replicas behind a load balancer serve one bot.

Telegram delivers each update by HTTPS POST to the webhook URL with the secret in the
`X-Telegram-Bot-Api-Secret-Token` header; python-telegram-bot's webhook server refuses
requests without it (HTTP 403). The secret comes only from the environment.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config import ConfigError

_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates, where this replica listens, and the shared secret."""

    url: str
    host: str
    port: int
    url_path: str
    secret: str


def webhook(url: str, listen: str, secret_env: str, environ: Mapping[str, str]) -> Webhook:
    """Check the --webhook and --listen values and read the secret; ConfigError when unusable."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"--webhook must be the public URL Telegram posts to, e.g. https://bot.example.org/"
            f"telegram (got {url!r})"
        )
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--listen must be HOST:PORT, e.g. 0.0.0.0:8443 (got {listen!r})")
    secret = environ.get(secret_env, "").strip()
    if not secret:
        raise ConfigError(
            f"{secret_env} is not set; webhook mode needs a secret that Telegram sends with "
            "every update (1-256 letters, digits, '_' or '-'), the same on every replica"
        )
    if not _SECRET.match(secret):
        raise ConfigError(
            f"{secret_env} must be 1-256 letters, digits, '_' or '-' (Telegram's rule)"
        )
    return Webhook(url, host.strip("[]"), int(port), parts.path.strip("/"), secret)
