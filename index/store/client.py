"""The one place a Chroma client is made: embedded in the data directory, or a server.

Every command reaches Chroma through `make_client`, so `store.backend` switches all of
them at once. Moving from one server to Chroma's distributed deployment changes only
`store.host`, `store.port`, `store.ssl`, the token and, if used, `store.tenant` and
`store.database`: both speak the same HTTP API.

Failures to reach a server become `StoreUnavailableError`, whose message names the
host and port; `reachable` does the translation around any call into Chroma.
"""

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from index.errors import StoreUnavailableError
from index.retry import with_backoff
from index.settings import StoreSettings

if TYPE_CHECKING:
    import chromadb

log = logging.getLogger(__name__)

T = TypeVar("T")


def location(settings: StoreSettings, data_dir: Path) -> str:
    """Where the chunks are, for messages: a directory or a server address."""
    if settings.backend == "embedded":
        return str(data_dir / "chroma")
    scheme = "https" if settings.ssl else "http"
    return f"{scheme}://{settings.host}:{settings.port}"


def auth_headers(settings: StoreSettings, environ: Mapping[str, str]) -> dict[str, str]:
    """The auth header for the server, from the configured environment variable (if set)."""
    token = environ.get(settings.auth_token_env, "").strip()
    if not token:
        return {}
    if settings.auth_header == "Authorization":
        return {"Authorization": f"Bearer {token}"}
    return {"X-Chroma-Token": token}


def make_client(settings: StoreSettings, data_dir: Path) -> "chromadb.ClientAPI":
    """A Chroma client for the configured backend, telemetry off (it would try the network)."""
    import chromadb
    from chromadb.config import Settings

    chroma_settings = Settings(anonymized_telemetry=False)
    if settings.backend == "embedded":
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    with reachable(settings, data_dir):
        return chromadb.HttpClient(
            host=settings.host,
            port=settings.port,
            ssl=settings.ssl,
            headers=auth_headers(settings, os.environ),
            settings=chroma_settings,
            tenant=settings.tenant,
            database=settings.database,
        )


def is_unreachable(exc: BaseException) -> bool:
    """Whether an exception from the Chroma client means the server can't be reached."""
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    # chromadb raises ValueError("Could not connect to a Chroma server...") from HttpClient()
    return isinstance(exc, ValueError) and "could not connect" in str(exc).lower()


@contextmanager
def reachable(settings: StoreSettings, data_dir: Path) -> Iterator[None]:
    """Turn "can't reach the server" errors into a StoreUnavailableError naming it."""
    try:
        yield
    except StoreUnavailableError:
        raise
    except Exception as exc:
        if settings.backend == "embedded" or not is_unreachable(exc):
            raise
        raise StoreUnavailableError(
            f"can't reach the Chroma server at {settings.host}:{settings.port} "
            f"({type(exc).__name__}: {exc}); start it, or check store.host and store.port"
        ) from None


def with_retries(call: Callable[[], T], settings: StoreSettings, what: str) -> T:
    """Run `call`, retrying with exponential backoff while the server is unreachable."""
    return with_backoff(
        call,
        retries=settings.retries,
        backoff_s=settings.retry_backoff_s,
        retry_on=(StoreUnavailableError,),
        what=what,
    )


__all__ = [
    "auth_headers",
    "is_unreachable",
    "location",
    "make_client",
    "reachable",
    "with_retries",
]
