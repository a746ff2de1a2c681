"""A real Chroma server for tests: `chroma run` (from the chromadb package) on 127.0.0.1."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


class ChromaServer:
    """`chroma run --path DIR --host 127.0.0.1 --port N`, which tests may kill and restart."""

    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while the server runs

    def start(self, timeout: float = 60.0) -> ChromaServer:
        """Start the server and wait until its heartbeat answers."""
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        self.proc = subprocess.Popen(
            [
                chroma,
                "run",
                "--path",
                str(self.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"chroma run not ready after {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): what a crash or a lost host looks like."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """Stop the server, close its log and this process's HTTP clients of it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
        close_http_clients()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """What the server printed."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-3000:]


def close_http_clients() -> None:
    """Close the HTTP sessions chromadb keeps per server and forget them.

    chromadb caches one client system per server address and never closes its httpx
    session; left to the garbage collector, its sockets raise ResourceWarnings, which
    this suite turns into errors.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = SharedSystemClient._identifier_to_system
    for identifier, system in list(systems.items()):
        sessions = [getattr(c, "_session", None) for c in system._instances.values()]
        open_sessions = [s for s in sessions if isinstance(s, httpx.Client)]
        if open_sessions:
            for session in open_sessions:
                session.close()
            del systems[identifier]
