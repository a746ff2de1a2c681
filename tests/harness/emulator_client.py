"""Python client for the local Telegram Bot API emulator in tests/emulator (see launch.js).

Typical use in a test::

    with TelegramEmulator().start(free_port()) as emu:
        app = (Application.builder().token(emu.token)
               .base_url(f"{emu.api_base}/bot").base_file_url(f"{emu.api_base}/file/bot").build())
        ...  # run the bot with long polling, then:
        emu.send_message("hello", user_id=42)
        reply = emu.wait_for_bot_message(42)
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

EMULATOR_DIR = Path(__file__).resolve().parents[1] / "emulator"
BOT_TOKEN = "7000000001:AAE-newsbot-emulator-token"
BOT_ID = 7000000001
BOT_USERNAME = "newsbot_test_bot"

T = TypeVar("T")


class EmulatorError(RuntimeError):
    """The emulator could not start, or refused a client-side request."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TelegramEmulator:
    """A running `node tests/emulator/launch.js` process and a client for its test routes."""

    def __init__(
        self, token: str = BOT_TOKEN, *, node: str = "node", verbose: bool = False
    ) -> None:
        """Prepare (but do not start) an emulator; `token` selects the bot the client acts on."""
        self.token = token
        self._node = node
        self._verbose = verbose
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._http: httpx.Client | None = None
        self._owner: TelegramEmulator | None = None

    def another_bot(self, token: str) -> TelegramEmulator:
        """A client for another bot token on this running emulator: its own chats,
        commands and updates, so a second bot process never competes for the first's."""
        other = TelegramEmulator(token)
        other._port, other._owner = self.port, self
        other._http = httpx.Client(base_url=self.api_base, timeout=10.0)
        return other

    # ------------------------------------------------------------------ lifecycle
    def start(self, port: int, *, timeout: float = 15.0) -> TelegramEmulator:
        """Launch the emulator on 127.0.0.1:`port` and wait until it answers."""
        if self._proc is not None:
            raise EmulatorError("emulator already started")
        if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
            raise EmulatorError(
                f"{EMULATOR_DIR}/node_modules is missing: run npm ci in tests/emulator"
            )
        node = shutil.which(self._node)
        if node is None:
            raise EmulatorError(
                f"{self._node!r} not found on PATH: Node.js 20+ is needed for the emulator"
            )
        self._port = port
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while the process runs
        cmd = [node, str(EMULATOR_DIR / "launch.js"), "--port", str(port)]
        if self._verbose:
            cmd.append("--verbose")
        self._proc = subprocess.Popen(
            cmd, cwd=EMULATOR_DIR, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._http = httpx.Client(base_url=self.api_base, timeout=10.0)
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                output = self.log()
                self.stop()
                raise EmulatorError(f"emulator exited with code {self._proc.returncode}:\n{output}")
            try:
                if self._http.get("/emulator/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                output = self.log()
                self.stop()
                raise EmulatorError(
                    f"emulator not ready on port {port} after {timeout}s:\n{output}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Terminate the emulator process (SIGTERM, then SIGKILL) and release resources."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> TelegramEmulator:
        """Return self; the emulator must already be started with start()."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the emulator."""
        self.stop()

    def log(self) -> str:
        """Everything the emulator printed so far (stdout and stderr)."""
        if self._owner is not None:
            return self._owner.log()
        if self._log is None:
            return ""
        self._log.seek(0)
        return str(self._log.read().decode("utf-8", "replace"))

    @property
    def port(self) -> int:
        """The port the emulator listens on."""
        if self._port is None:
            raise EmulatorError("emulator not started")
        return self._port

    @property
    def api_base(self) -> str:
        """Base URL, e.g. http://127.0.0.1:N; PTB wants base_url(f"{api_base}/bot")."""
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ client-side requests
    def _call(self, path: str, *, content: bytes | None = None, **payload: Any) -> Any:
        """POST a client route: the payload as JSON, or, with `content` (a file's bytes) as
        the body, the payload in the query."""
        if self._http is None:
            raise EmulatorError("emulator not started")
        body = {"token": self.token, **{k: v for k, v in payload.items() if v is not None}}
        if content is None:
            response = self._http.post(path, json=body)
        else:
            query = {k: str(v).lower() if isinstance(v, bool) else v for k, v in body.items()}
            headers = {"content-type": "application/octet-stream"}
            response = self._http.post(path, params=query, content=content, headers=headers)
        data = response.json()
        if not data.get("ok"):
            raise EmulatorError(f"{path} failed: {data.get('description', data)}")
        return data["result"]

    def send_message(
        self,
        text: str,
        *,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        username: str | None = None,
        chat_title: str | None = None,
        mention: bool = False,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Inject a user's text message; returns the Message dict the bot will receive.

        chat_id defaults to user_id (private chat); groups need a negative chat_id.
        mention=True prepends "@newsbot_test_bot " unless the text already mentions the bot.
        Bot commands and @mentions get entities automatically unless `entities` is given.
        """
        result = self._call(
            "/sendMessage",
            text=text,
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            chat_title=chat_title,
            mention=mention,
            reply_to_message_id=reply_to_message_id,
            entities=entities,
        )
        return dict(result["message"])

    def send_command(
        self,
        command: str,
        *,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        username: str | None = None,
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject a command such as "/start" ("/" is prepended if missing); returns the Message."""
        result = self._call(
            "/sendCommand",
            text=command,
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            chat_title=chat_title,
            reply_to_message_id=reply_to_message_id,
        )
        return dict(result["message"])

    def send_document(
        self,
        path_or_bytes: Path | bytes,
        file_name: str | None = None,
        *,
        user_id: int,
        chat_id: int | None = None,
        caption: str | None = None,
        file_size: int | None = None,
        mime_type: str | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        mention: bool = False,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject a user's document; returns the Message dict the bot will receive.

        `file_name` defaults to the path's name. The bot can getFile and download it.
        `file_size` claims a size of at least the real one (to test a cap without sending
        megabytes); getFile refuses over 20 MB like the cloud Bot API. `mention=True`
        puts "@newsbot_test_bot" in front of the caption.
        """
        if isinstance(path_or_bytes, Path):
            content, file_name = path_or_bytes.read_bytes(), file_name or path_or_bytes.name
        else:
            content = path_or_bytes
        if not file_name:
            raise ValueError("file_name is needed with bytes")
        result = self._call(
            "/sendDocument",
            content=content,
            file_name=file_name,
            mime_type=mime_type or mimetypes.guess_type(file_name)[0],
            caption=caption,
            file_size=file_size,
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            mention=mention,
            reply_to_message_id=reply_to_message_id,
        )
        return dict(result["message"])

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        user_id: int,
        *,
        first_name: str = "Test",
    ) -> dict[str, Any]:
        """Press an inline button of a bot message; returns the CallbackQuery sent to the bot."""
        result = self._call(
            "/sendCallback",
            chat_id=chat_id,
            message_id=message_id,
            data=callback_data,
            user_id=user_id,
            first_name=first_name,
        )
        return dict(result["callback_query"])

    def block_chat(self, chat_id: int) -> None:
        """Make every Bot API method aimed at this chat fail with 403, as when a user has
        blocked the bot ("Forbidden: bot was blocked by the user"); `reset` undoes it."""
        self._call("/emulator/block", chat_id=chat_id)

    def fail_chat(self, chat_id: int, times: int, code: int = 500) -> None:
        """Make the next `times` Bot API calls aimed at this chat fail with `code`."""
        self._call("/emulator/fail", chat_id=chat_id, times=times, code=code)

    def reset(self) -> None:
        """Forget all chats, messages, updates, actions, commands, files and blocks of this
        bot token."""
        self._call("/emulator/reset")

    # ------------------------------------------------------------------ observed state
    def history(self, chat_id: int | None = None) -> dict[str, Any]:
        """Raw state: chats, messages (edits applied), chat_actions, commands, callback_answers."""
        return dict(self._call("/emulator/history", chat_id=chat_id))

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """All messages of a chat (users' and the bot's), oldest first, latest state."""
        return list(self.history(chat_id)["messages"])

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, oldest first, with edits applied."""
        return [m for m in self.messages(chat_id) if m["from"]["is_bot"]]

    def shown_texts(self, chat_id: int) -> list[str]:
        """Every text the bot's messages in a chat showed, as sent and after each edit."""
        return [shown["text"] for shown in self.history(chat_id)["shown"]]

    def chat_actions(self, chat_id: int) -> list[str]:
        """Chat actions ("typing", ...) the bot sent to a chat, in order."""
        return [a["action"] for a in self.history(chat_id)["chat_actions"]]

    def timeline(self, chat_id: int) -> list[str]:
        """What the bot did in a chat, in the order the emulator received it: a chat
        action's name ("typing") or a message's text (as first sent)."""
        state = self.history(chat_id)
        events = [(a["seq"], a["action"]) for a in state["chat_actions"]]
        events += [(m["seq"], m["text"]) for m in state["messages"] if m["from"]["is_bot"]]
        return [what for _, what in sorted(events)]

    def commands(
        self, scope_type: str = "default", language_code: str = ""
    ) -> list[dict[str, str]]:
        """The bot's command list for a scope type (as set with setMyCommands)."""
        for entry in self.history()["commands"]:
            if entry["scope"].get("type") == scope_type and entry["language_code"] == language_code:
                return list(entry["commands"])
        return []

    def callback_answers(self) -> list[dict[str, Any]]:
        """answerCallbackQuery calls made by the bot, in order."""
        return list(self.history()["callback_answers"])

    def file_requests(self) -> list[tuple[str, str]]:
        """The bot's getFile calls and downloads, in order: ("getFile" or "download", file_id)."""
        return [(r["kind"], r["file_id"]) for r in self.history()["file_requests"]]

    # ------------------------------------------------------------------ waiting
    def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 10.0,
        *,
        interval: float = 0.05,
        description: str = "condition",
    ) -> T:
        """Poll predicate() until truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        last: Any = None
        last_error: BaseException | None = None
        while True:
            try:
                last = predicate()
                last_error = None
                if last:
                    return last
            except (AssertionError, LookupError, EmulatorError) as exc:
                last_error = exc
            if time.monotonic() > deadline:
                break
            time.sleep(interval)
        state = self._describe_state()
        error = f"\nlast error: {last_error!r}" if last_error else ""
        raise AssertionError(
            f"timed out after {timeout}s waiting for {description}\n"
            f"last value: {last!r}{error}\nemulator state:\n{state}"
        )

    def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        after_message_id: int = 0,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Wait for a bot message in chat newer than after_message_id (and matching predicate)."""

        def find() -> dict[str, Any] | None:
            for message in self.bot_messages(chat_id):
                if message["message_id"] > after_message_id and (
                    predicate is None or predicate(message)
                ):
                    return message
            return None

        return self.wait_for(find, timeout, description=f"a bot message in chat {chat_id}")

    def _describe_state(self) -> str:
        try:
            state = self.history()
        except (httpx.HTTPError, EmulatorError) as exc:
            return f"  (unavailable: {exc!r})\n  emulator log:\n{self.log()[-2000:]}"
        lines = []
        for m in state["messages"]:
            who = "bot" if m["from"]["is_bot"] else f"user {m['from']['id']}"
            extra = " [edited]" if "edit_date" in m else ""
            extra += " [keyboard]" if "reply_markup" in m else ""
            shown = m.get("text") or m.get("caption") or ""
            if "document" in m:
                extra += f" [document {m['document']['file_name']}]"
            lines.append(
                f"  chat {m['chat']['id']} #{m['message_id']} {who}: {shown[:200]!r}{extra}"
            )
        lines.append(f"  chat actions: {json.dumps(state['chat_actions'])}")
        return "\n".join(lines)
