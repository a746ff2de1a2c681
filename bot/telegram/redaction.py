"""Keep the bot token out of every log line: messages, arguments, tracebacks.

httpx logs each request URL at INFO, and the Bot API puts the token in the path
(`.../bot<token>/getUpdates`); PTB's InvalidToken message quotes it too. Other secrets
go through the same filter: at DEBUG, PTB logs every Bot API call's parameters, and
`setWebhook`'s include the webhook secret.
"""

import logging
from collections.abc import Iterable

REDACTED = "[REDACTED]"


class TokenFilter(logging.Filter):
    """Replaces the token, its secret half and other secrets in a record before it is written."""

    def __init__(self, token: str, others: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in (token, token.partition(":")[2], *others) if s]

    def redact(self, text: str) -> str:
        """Text with the token replaced by [REDACTED]."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the formatter reports it, with no args to leak
            record.args = ()
            return True
        if any(s in message for s in self.secrets):
            record.msg, record.args = self.redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install(token: str, *, debug: bool, others: Iterable[str] = ()) -> TokenFilter:
    """Redact the token (and `others`) on every root handler; quiet httpx unless debug."""
    token_filter = TokenFilter(token, others)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.addFilter(token_filter)
    logging.captureWarnings(True)  # warnings then pass through the filtered handlers too
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addFilter(token_filter)
        if not debug:
            logging.getLogger(name).setLevel(logging.WARNING)
    return token_filter
