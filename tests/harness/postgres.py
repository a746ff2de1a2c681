"""A real, throw-away PostgreSQL cluster for tests, in a temp directory on loopback.

Debian's PostgreSQL (`apt-get install postgresql`; `.ci/run` installs it where missing)
brings `initdb` and `pg_ctl` but starts no server. The server refuses to run as root,
so under root the cluster belongs to the `postgres` system user, as the packages set
it up; otherwise it runs as whoever runs the tests.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.emulator_client import free_port


@contextmanager
def throwaway_cluster() -> Iterator[PostgresCluster]:
    """A started cluster in a temp directory, removed afterwards."""
    if postgres_bin() is None:
        import pytest

        pytest.fail("PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does)")
    server = PostgresCluster(free_port()).start()
    try:
        yield server
    finally:
        server.remove()


def postgres_bin() -> Path | None:
    """The directory of `initdb` and `pg_ctl` (Debian keeps them off PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


class PostgresCluster:
    """initdb, pg_ctl start/stop/restart of one cluster; `url` reaches its `postgres` db."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", f"{self.dir}/db", "-A", "trust", "-U", "newsbot")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's `postgres` database."""
        return f"postgresql://newsbot@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """The URL of a new, empty database in the cluster."""
        from sqlalchemy import create_engine, text

        name = "t" + uuid.uuid4().hex[:12]
        admin = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return self.url.rsplit("/", 1)[0] + "/" + name

    def start(self) -> PostgresCluster:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", f"{self.dir}/db", "-o", options, "-l", f"{self.dir}/log", "-w")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate` is what a crash looks like to clients)."""
        self._run("pg_ctl", "-D", f"{self.dir}/db", "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete the cluster."""
        subprocess.run(
            self._command("pg_ctl", "-D", f"{self.dir}/db", "-m", "immediate", "stop"),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.dir, ignore_errors=True)

    def _command(self, program: str, *args: str) -> list[str]:
        assert self.bin is not None
        command = [str(self.bin / program), *args]
        if program == "pg_ctl" and "stop" not in args:
            command.insert(1, "start")
        if not self.as_postgres:
            return command
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(_quote, command))]

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(self._command(program, *args), capture_output=True, check=False)
        if done.returncode:
            raise RuntimeError(
                f"{program} failed: {done.stderr.decode(errors='replace')}"
                f"{done.stdout.decode(errors='replace')}"
            )


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"
