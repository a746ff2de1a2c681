"""Replicas of `newsbot telegram --webhook` as subprocesses, behind a round-robin balancer.

The balancer forwards each webhook POST to the next replica (with the secret header, as
Telegram sends it) and remembers which replica got which update, so tests can check
that turns of one conversation really went to different replicas.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.emulator_client import TelegramEmulator, free_port

SECRET = "replica-secret_42"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class RoundRobin:
    """A load balancer: each POST goes to the next replica; remembers who got what."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.routed: list[tuple[int, dict[str, Any]]] = []  # (replica index, update)
        self._next = 0
        self.pinned: int | None = None  # send everything to this replica, when set
        self._lock = threading.Lock()
        balancer = self

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with balancer._lock:
                    replica = balancer._next % len(balancer.ports)
                    balancer._next += 1
                    if balancer.pinned is not None:
                        replica = balancer.pinned
                    balancer.routed.append((replica, json.loads(body)))
                headers = {"Content-Type": "application/json"}
                if self.headers.get(SECRET_HEADER):
                    headers[SECRET_HEADER] = self.headers[SECRET_HEADER]
                url = f"http://127.0.0.1:{balancer.ports[replica]}{self.path}"
                try:
                    status = httpx.post(url, content=body, headers=headers, timeout=30).status_code
                except httpx.TransportError:
                    status = 502
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Forward)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/telegram"

    def replica_of(self, message_id: int) -> int:
        """Which replica got the update carrying this message."""
        for replica, update in self.routed:
            if update.get("message", {}).get("message_id") == message_id:
                return replica
        raise LookupError(message_id)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Replica:
    """`newsbot telegram --webhook LB --listen 127.0.0.1:PORT` as a subprocess."""

    def __init__(
        self, workdir: Path, config: dict[str, Any], emulator: TelegramEmulator, lb: str
    ) -> None:
        workdir.mkdir(parents=True)
        self.port = free_port()
        self.log_file = workdir / "newsbot.log"
        logging = {"level": "DEBUG", **config.get("logging", {}), "file": str(self.log_file)}
        config = {**config, "logging": logging}
        config_file = workdir / "config.yaml"
        config_file.write_text(yaml.safe_dump(config))
        script = shutil.which("newsbot", path=str(Path(sys.executable).parent))
        assert script
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        env |= {
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE": emulator.api_base,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
        self.stderr = workdir / "stderr.txt"
        with self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    *(script, "telegram", "--config", str(config_file)),
                    *("--webhook", lb, "--listen", f"127.0.0.1:{self.port}"),
                ],
                cwd=workdir,
                env=env,
                stdout=err,
                stderr=err,
            )

    def post(self, update: dict[str, Any], secret: str | None) -> int:
        """POST an update straight to this replica's webhook server."""
        headers = {SECRET_HEADER: secret} if secret else {}
        url = f"http://127.0.0.1:{self.port}/telegram"
        return httpx.post(url, json=update, headers=headers, timeout=10).status_code

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"replica exited with {self.proc.returncode}:\n{self.output()}")
        try:
            return self.post({}, None) == 403  # serving, and checking the secret
        except httpx.TransportError:
            return False

    def output(self) -> str:
        log = self.log_file.read_text() if self.log_file.exists() else ""
        return log[-5000:] + self.stderr.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: the replica dies mid-work, as in a crash, with no cleanup."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def leads(self) -> bool:
        """Whether the replica's log says it holds the leader's lease now."""
        log = self.log_file.read_text() if self.log_file.exists() else ""
        now, no_longer = log.rfind("is now the leader"), log.rfind("is no longer the leader")
        return now > no_longer


@contextmanager
def behind_balancer(
    configs: Mapping[Path, dict[str, Any]], emulator: TelegramEmulator
) -> Iterator[tuple[RoundRobin, list[Replica]]]:
    """One replica per (workdir, config), all behind a new balancer and ready; stopped after."""
    lb = RoundRobin([])
    replicas: list[Replica] = []
    try:
        for workdir, config in configs.items():
            replicas.append(Replica(workdir, config, emulator, lb.url))
            lb.ports.append(replicas[-1].port)
        for replica in replicas:
            emulator.wait_for(replica.ready, 180, interval=0.2, description="a replica")
        yield lb, replicas
    finally:
        for replica in replicas:
            replica.stop()
        lb.close()
