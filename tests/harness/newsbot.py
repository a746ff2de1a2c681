"""The real `newsbot` console script, run as users run it: one command, or the bot.

`run_newsbot` runs one command to completion; `NewsbotProcess` runs `newsbot telegram`
against the emulator. `inject_failures` puts `tests/harness/inject` on the bot's
PYTHONPATH: its sitecustomize makes answering raise for questions containing a marker,
a failure injected from the test rather than a switch in newsbot.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from harness.emulator_client import TelegramEmulator

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "haaretz-2004-09-06-lavrov.txt"
INJECT_DIR = Path(__file__).resolve().parent / "inject"
FAIL_ON_VARIABLE = "INJECT_FAIL_ON"


def build_index(data_dir: Path, *paths: Path) -> Path:
    """A data directory holding `paths`, ingested through `newsbot ingest`'s entry point."""
    from bot.config import load_settings
    from index.ingest.pipeline import ingest_paths

    report = ingest_paths(load_settings(data_dir=data_dir), list(paths))
    assert not report.problems, report.problems
    return data_dir


def newsbot_script() -> str:
    """The installed console script of this venv."""
    script = shutil.which("newsbot", path=str(Path(sys.executable).parent))
    assert script, "the newsbot console script is not installed (pip install -e .)"
    return script


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without NEWSBOT_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(extra)
    return env


def inject_failures(marker: str) -> dict[str, str]:
    """Environment that makes answering fail for questions containing `marker`."""
    path = os.pathsep.join(p for p in (str(INJECT_DIR), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, FAIL_ON_VARIABLE: marker}


def run_newsbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `newsbot` console script as a separate process."""
    return subprocess.run(
        [newsbot_script(), *args],
        cwd=cwd,
        env=clean_env(**(env or {})),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class NewsbotProcess:
    """The real `newsbot telegram` console script as a subprocess, logging to a file."""

    def __init__(
        self, workdir: Path, emulator: TelegramEmulator, config: dict[str, Any], **env: str
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_file = workdir / "newsbot.log"
        self.stderr_file = workdir / "stderr.txt"
        config = {**config, "logging": {"level": "DEBUG", "file": str(self.log_file)}}
        config_file = self.config_file = workdir / "config.yaml"
        config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
        full_env = clean_env(
            TELEGRAM_BOT_TOKEN=emulator.token, TELEGRAM_API_BASE=emulator.api_base, **env
        )
        self.emulator = emulator
        with self.stderr_file.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [newsbot_script(), "telegram", "--config", str(config_file)],
                cwd=workdir,
                env=full_env,
                stdout=stderr,
                stderr=stderr,
            )

    def wait_ready(self, timeout: float = 120.0) -> NewsbotProcess:
        """Wait until post_init has registered the commands (polling starts right after)."""

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"newsbot exited with {self.proc.returncode}:\n{self.output()}")
            return bool(self.emulator.commands())

        self.emulator.wait_for(ready, timeout, interval=0.1, description="the bot to start")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Send a signal and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def output(self) -> str:
        """Everything logged so far: the log file, then stdout and stderr."""
        log = self.log_file.read_text("utf-8") if self.log_file.exists() else ""
        return log + self.stderr_file.read_text("utf-8", errors="replace")


def replies_to(message: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Whether a bot message replies to the message `sent`."""
    return message.get("reply_to_message", {}).get("message_id") == sent["message_id"]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def links(message: dict[str, Any]) -> list[str]:
    """The URLs of a message's text links."""
    return [e["url"] for e in message.get("entities", []) if e["type"] == "text_link"]
