"""A local Sentry ingest endpoint: accepts the SDK's envelopes (`POST /api/<project>/envelope/`, gzip or
plain) as Sentry does and keeps every item it received, parsed.

with SentryServer() as sentry:
    dsn = sentry.dsn                 # http://public@127.0.0.1:<port>/1
    ...
    events = sentry.events()         # the "event" items' JSON payloads
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.local_http import QuietServer, serve_in_thread, stop_serving


def parse_envelope(raw: bytes) -> list[tuple[dict[str, Any], Any]]:
    """[(item header, payload)] of a Sentry envelope: a header line, then header/payload pairs."""
    lines = raw.split(b"\n")
    items = []
    index = 1  # line 0 is the envelope's own header
    while index < len(lines) and lines[index].strip():
        header = json.loads(lines[index])
        length = header.get("length")
        if length is not None:
            rest = b"\n".join(lines[index + 1 :])
            payload_bytes, remainder = rest[:length], rest[length + 1 :]
            lines = lines[: index + 1] + remainder.split(b"\n")
        else:
            payload_bytes = lines[index + 1]
        try:
            payload: Any = json.loads(payload_bytes)
        except ValueError:
            payload = payload_bytes
        items.append((header, payload))
        index += 2
    return items


class SentryServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[dict[str, Any], Any]] = []
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def dsn(self) -> str:
        assert self._server is not None
        return f"http://public@127.0.0.1:{self._server.server_address[1]}/1"

    def _receive(self, path: str, encoding: str, body: bytes) -> int:
        if not path.startswith("/api/1/envelope/"):
            return 404
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding not in ("", "identity"):
            return 415
        with self._lock:
            self._items.extend(parse_envelope(body))
        return 200

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [payload for header, payload in self._items if header.get("type") == "event"]

    def __enter__(self) -> SentryServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = owner._receive(self.path, self.headers.get("Content-Encoding", ""), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id":"0"}')

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server, self._thread = serve_in_thread(Handler, name="sentry-server")
        return self

    def __exit__(self, *exc: object) -> None:
        stop_serving(self._server, self._thread)
