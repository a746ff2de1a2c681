"""The index's write lock: two writers never interleave, on one machine or across hosts.

Every writer (an ingest from the CLI, a feed refresh, an upload, a removal, a migration)
takes `ingest_lock`. On one machine that is the data directory's file lock. With a Chroma
server (`store.backend: server`) and a Postgres shared state, writers on other hosts
share the store but not the data directory, so the lock also takes a Postgres advisory
lock (session-level, on a connection of its own) keyed by the store's address and
collection; the database frees it when the holder's connection ends, a killed writer
included. With SQLite or an embedded store, every writer is on this host and the file
lock is enough. Both locks wait up to `ingest.lock_timeout_s` (0: fail at once) and fail
with the same one-line StoreLockedError.
"""

import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from index.errors import DataDirError, StoreLockedError
from index.settings import IndexConfig, StoreSettings

POLL_S = 0.2  # how often a waiting writer tries the advisory lock again


def ensure_writable(data_dir: Path) -> None:
    """Create the data directory, or explain why it can't be written."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataDirError(
            f"can't write to data directory {data_dir}: {exc.strerror or exc}; "
            "choose another with --data-dir or NEWSBOT_DATA_DIR"
        ) from exc


@contextmanager
def write_lock(data_dir: Path, timeout_s: float = 0.0) -> Iterator[None]:
    """Hold the data directory's write lock, so two writers on this host never interleave."""
    from filelock import FileLock, Timeout

    ensure_writable(data_dir)
    lock = FileLock(data_dir / ".write.lock")
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        raise StoreLockedError(
            f"another newsbot process is writing to {data_dir}; "
            "wait for it to finish, then try again"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def ingest_lock(config: IndexConfig, store: StoreSettings | None = None) -> Iterator[None]:
    """Hold the write lock of the store writers use (`store`, default the configured one)."""
    store = store or config.store
    timeout_s = config.ingest.lock_timeout_s
    with ExitStack() as held:
        held.enter_context(write_lock(config.data_dir, timeout_s))
        if store.backend == "server" and config.state_url.startswith("postgres"):
            held.enter_context(advisory_lock(config.state_url, store, timeout_s))
        yield


@contextmanager
def advisory_lock(url: str, store: StoreSettings, timeout_s: float) -> Iterator[None]:
    """Hold the Postgres advisory lock of a Chroma server's collection, for writers anywhere."""
    from sqlalchemy import select, text

    from index.store.database import shared_engine, usable

    where = f"{store.host}:{store.port}/{store.tenant}/{store.database}/{store.collection}"
    key = zlib.crc32(where.encode())
    with usable(url):  # only around the database's own calls: the writer's errors are its own
        connection = shared_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            deadline = time.monotonic() + timeout_s
            while not connection.scalar(select(text(f"pg_try_advisory_lock({key})"))):
                if time.monotonic() >= deadline:
                    raise StoreLockedError(
                        f"another newsbot process is writing to the Chroma server at {where}; "
                        "wait for it to finish, then try again"
                    )
                time.sleep(POLL_S)
        except BaseException:
            connection.invalidate()  # not back to the pool half-locked
            connection.close()
            raise
    try:
        yield
    finally:
        try:
            connection.scalar(select(text(f"pg_advisory_unlock({key})")))
        except Exception:  # the session is gone, and its lock with it
            connection.invalidate()
        connection.close()
