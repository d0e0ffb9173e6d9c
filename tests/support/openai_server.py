"""A local server that speaks OpenAI's chat-completions protocol: real HTTP on 127.0.0.1.

with OpenAIServer() as server:
    settings.OPENAI_BASE_URL = server.base_url     # "http://127.0.0.1:<port>/v1"
    server.answer_with(lambda text: {"sentiment": "negative", "score": -0.7})
    server.delay_next(1, seconds=2.0)               # the next request answers late
    server.fail_next(1, status=500)                 # the next request gets HTTP 500
    server.malformed_next(1)                        # the next request gets content that is not JSON
    ...
    server.requests()                               # every request: headers and the parsed JSON body

It checks what the real service checks that matters here — POST /v1/chat/completions, a bearer key,
a JSON body with `model` and `messages` — and answers a request for `{"texts": [{"id", "text"}]}`
(the sentiment prompt's user message) with one result per text, as the system prompt asks, and an insight's
facts (the narrative prompt) with `{"narrative": …}` written by `narrate_with`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.local_http import QuietServer, serve_in_thread, stop_serving

Answer = Callable[[str], dict[str, Any]]


def positive_answer(text: str) -> dict[str, Any]:
    return {
        "sentiment": "positive",
        "score": 0.9,
        "emotions": {"joy": 0.8, "trust": 0.2, "surprise": 0.0, "anger": 0.0, "fear": 0.0, "sadness": 0.0},
    }


@dataclass(frozen=True)
class ChatRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]

    @property
    def user_message(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")

    @property
    def texts(self) -> list[str]:
        return [item["text"] for item in json.loads(self.user_message)["texts"]]


class OpenAIServer:
    def __init__(self, *, api_key: str = "sk-test-local") -> None:
        self.api_key = api_key
        self._lock = threading.Lock()
        self._requests: list[ChatRequest] = []
        self._faults: list[tuple[str, float]] = []  # ("delay", seconds) | ("status", code) | ("malformed", 0)
        self._answer: Answer = positive_answer
        self._narrator: Callable[[dict[str, Any]], str] = lambda facts: str(facts["description"])
        self._stopping = threading.Event()
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> OpenAIServer:
        self._server, self._thread = serve_in_thread(_handler_for(self), name="openai")
        return self

    def stop(self) -> None:
        self._stopping.set()
        stop_serving(self._server, self._thread)
        self._server = self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer_with(self, answer: Answer) -> None:
        self._answer = answer

    def delay_next(self, count: int, *, seconds: float) -> None:
        with self._lock:
            self._faults.extend([("delay", seconds)] * count)

    def fail_next(self, count: int, *, status: int = 500) -> None:
        with self._lock:
            self._faults.extend([("status", float(status))] * count)

    def malformed_next(self, count: int) -> None:
        with self._lock:
            self._faults.extend([("malformed", 0.0)] * count)

    def requests(self) -> list[ChatRequest]:
        with self._lock:
            return list(self._requests)

    def _take_fault(self) -> tuple[str, float] | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _record(self, request: ChatRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.wait(0.02):
            pass

    def _completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    def narrate_with(self, narrator: Callable[[dict[str, Any]], str]) -> None:
        """How to answer the insight narrative prompt (a user message holding one insight's facts)."""
        self._narrator = narrator

    def _results(self, user: str) -> str:
        message = json.loads(user)
        if "texts" not in message:  # the insight narrative prompt: {"title", "description", "figures", …}
            return json.dumps({"narrative": self._narrator(message)})
        items = message["texts"]
        return json.dumps({"results": [{"id": item["id"], **self._answer(item["text"])} for item in items]})


def _handler_for(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, kind: str) -> None:
            self._send(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != "/v1/chat/completions":
                self._error(404, f"unknown path {self.path}", "invalid_request_error")
                return
            if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                self._error(401, "Incorrect API key provided", "invalid_request_error")
                return
            try:
                body = json.loads(raw)
                assert isinstance(body, dict) and body.get("model") and isinstance(body.get("messages"), list)
            except (ValueError, AssertionError):
                self._error(400, "the body must be a JSON object with model and messages", "invalid_request_error")
                return
            request = ChatRequest(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
            server._record(request)
            fault = server._take_fault()
            if fault and fault[0] == "delay":
                server._wait(fault[1])
            if fault and fault[0] == "status":
                self._error(int(fault[1]), "The server had an error while processing your request.", "server_error")
                return
            if fault and fault[0] == "malformed":
                self._send(200, server._completion(body, "Sure! Here is what I think: it is positive."))
                return
            self._send(200, server._completion(body, server._results(request.user_message)))

    return Handler
