"""The index's write lock across hosts: a Postgres advisory lock, with a real PostgreSQL
cluster started here.

Two data directories stand for two hosts writing to one Chroma server. With a Postgres
shared state the second writer is refused with the same one-line message as on one host
(or waits, with `ingest.lock_timeout_s`), and a killed writer's lock is freed by the
database. With a SQLite state, or an embedded store, the local file lock is all there is.
No Chroma server is needed: the lock is taken before the store is opened.
"""

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from harness.newsbot import SAMPLE, run_newsbot
from harness.postgres import PostgresCluster

from bot.config import Settings, load_settings
from index.errors import StoreLockedError
from index.store.locking import POLL_S, ingest_lock

SERVER = {"backend": "server", "host": "127.0.0.1", "port": 1, "collection": "locked"}


def host(root: Path, name: str, state: str | None, **extra: object) -> Settings:
    """The settings of one host: its own data directory, the shared store and state."""
    store = extra.pop("store", SERVER)
    return load_settings(data_dir=root / name, store=store, state=state, **extra)


def test_a_writer_on_another_host_is_refused_in_one_line(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    config = tmp_path / "b.yaml"
    config.write_text(
        yaml.safe_dump({"data_dir": str(tmp_path / "b"), "store": SERVER, "state": postgres.url})
    )
    with ingest_lock(host(tmp_path, "a", postgres.url)):  # a writer on host a
        result = run_newsbot("ingest", str(SAMPLE), "--config", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "newsbot: another newsbot process is writing to the Chroma server at "
        "127.0.0.1:1/default_tenant/default_database/locked; wait for it to finish, "
        "then try again"
    )


def test_a_waiting_writer_gets_the_lock_once_the_other_host_is_done(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    held, release, got = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        with ingest_lock(host(tmp_path, "a", postgres.url)):
            held.set()
            release.wait(60)

    def second() -> None:
        patient = host(tmp_path, "b", postgres.url, ingest={"lock_timeout_s": 60})
        try:
            with ingest_lock(patient):
                got.set()
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    writer_a, writer_b = threading.Thread(target=first), threading.Thread(target=second)
    writer_a.start()
    assert held.wait(30)
    writer_b.start()
    assert not got.wait(5 * POLL_S)  # host b waits while host a writes, rather than failing
    assert not failures
    release.set()
    assert got.wait(30), failures  # and writes once host a is done
    writer_a.join(30)
    writer_b.join(30)
    assert not failures


def test_a_killed_writer_frees_the_lock(postgres: PostgresCluster, tmp_path: Path) -> None:
    script = (
        "import signal\n"
        "from bot.config import load_settings\n"
        "from index.store.locking import ingest_lock\n"
        f"settings = load_settings(data_dir={str(tmp_path / 'a')!r}, store={SERVER!r}, "
        f"state={postgres.url!r})\n"
        "with ingest_lock(settings):\n"
        "    print('held', flush=True)\n"
        "    signal.pause()  # until the test kills it\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout and writer.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError), ingest_lock(host(tmp_path, "b", postgres.url)):
            pass
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(30)
        if writer.stdout:
            writer.stdout.close()
    patient = host(tmp_path, "b", postgres.url, ingest={"lock_timeout_s": 30})
    with ingest_lock(patient):  # Postgres ends the dead session's lock with it
        pass


@pytest.mark.parametrize("shared", ["sqlite", "embedded"])
def test_without_postgres_and_a_server_the_file_lock_is_enough(
    postgres: PostgresCluster, tmp_path: Path, shared: str
) -> None:
    if shared == "sqlite":
        a = host(tmp_path, "a", None)
        b = host(tmp_path, "b", None)
    else:  # each host's embedded store is its own
        a = host(tmp_path, "a", postgres.url, store={"backend": "embedded"})
        b = host(tmp_path, "b", postgres.url, store={"backend": "embedded"})
    with ingest_lock(a), ingest_lock(b):
        pass
    same_host = a.model_copy(update={"state": postgres.url})
    with (
        ingest_lock(a),
        pytest.raises(StoreLockedError, match="is writing to"),
        ingest_lock(same_host),  # one data directory: the file lock still holds
    ):
        pass
