"""A local webhook receiver: real HTTP on 127.0.0.1, a record of every request, and faults on demand.

with WebhookServer() as hook:
    settings.ANALYTICS_ALERT_WEBHOOK_URL = hook.url
    hook.fail_next(2)            # the next two POSTs get 503, then 200 again
    ...
    assert [r.json["type"] for r in hook.accepted()] == ["alert.opened"]
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.local_http import QuietServer, serve_in_thread, stop_serving


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int  # what the server answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class WebhookServer:
    def __init__(self, *, path: str = "/hooks/loopin") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._requests: list[WebhookRequest] = []
        self._failures: list[int] = []
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def start(self) -> WebhookServer:
        self._server, self._thread = serve_in_thread(_handler_for(self), name="webhook")
        return self

    def stop(self) -> None:
        stop_serving(self._server, self._thread)
        self._server = self._thread = None

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, count: int, *, status: int = 503) -> None:
        """Answer the next `count` requests with `status`, then 200 again."""
        with self._lock:
            self._failures.extend([status] * count)

    def requests(self) -> list[WebhookRequest]:
        with self._lock:
            return list(self._requests)

    def accepted(self) -> list[WebhookRequest]:
        return [r for r in self.requests() if r.accepted]

    def _answer_for(self, request_path: str) -> int:
        with self._lock:
            if request_path != self.path:
                return 404
            return self._failures.pop(0) if self._failures else 200

    def _record(self, request: WebhookRequest) -> None:
        with self._lock:
            self._requests.append(request)


def _handler_for(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status = server._answer_for(self.path)
            server._record(
                WebhookRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    status=status,
                )
            )
            answer = json.dumps({"ok": status == 200}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
