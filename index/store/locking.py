"""The data directory's write lock: two writers on one machine never interleave."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import DataDirError, StoreLockedError


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
    """Hold the data directory's write lock, so two writers never interleave."""
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
