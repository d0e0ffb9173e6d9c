"""A local PostHog capture server: real HTTP, the real wire protocol, and a record of what arrived.

It implements what the official `posthog` Python package sends (`posthog.request.batch_post`):

    POST /batch/    Content-Type: application/json, optionally Content-Encoding: gzip
    {"api_key": "<project key>", "batch": [{"event", "distinct_id", "uuid", "timestamp",
     "properties"}, ...], "sent_at": "<iso>", "historical_migration": false}

and, like PostHog's capture service, also the single-event endpoints (`/e/`, `/capture/`,
`/i/v0/e/`, `/track/`) with the key as `api_key` or `token`, and `?compression=gzip|gzip-js`.
Answers as PostHog does: 200 `{"status": 1}`; 400 `validation_error` for a body it cannot read or
an event without a name or distinct_id; 401 `authentication_error` without a key (or with the wrong
one when `api_key` is given); 413 over `max_body_bytes`.

It also implements the private API's person deletion, as PostHog's `PersonViewSet.bulk_delete` does:

    POST /api/projects/<project_id>/persons/bulk_delete/    Authorization: Bearer <personal API key>
    {"distinct_ids": [...] (at most 1000), "delete_events": true}

answering 202 (empty body) when accepted, 401 `authentication_error` for a missing or wrong personal key,
404 for another project, 400 `validation_error` without ids or over 1000 (`personal_api_key` and
`project_id` set what it accepts). Accepted deletions are in `deletions()`.

Faults for outage tests: `fail_with(503)` answers every capture with that status until `recover()`;
`refuse_events(predicate)` answers 400 for any batch holding a matching event; `stop()` closes the
socket (connection refused) and `start()` listens again on the same port.

    with PostHogCaptureServer(api_key="phc_test") as server:
        settings.POSTHOG_HOST = server.url
        ...
        assert [e["uuid"] for e in server.events()] == [...]
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.local_http import QuietServer, serve_in_thread

BATCH_PATHS = frozenset({"/batch", "/batch/"})
SINGLE_EVENT_PATHS = frozenset({"/e", "/e/", "/capture", "/capture/", "/i/v0/e", "/i/v0/e/", "/track", "/track/"})


@dataclass(frozen=True)
class CaptureRequest:
    """One request as received: how it came, what it held, and what the server answered."""

    path: str
    status: int
    headers: dict[str, str]
    gzipped: bool
    raw_body: bytes  # the decompressed body, for "no e-mail anywhere in what was sent" checks
    body: Any
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class _Refusal(Exception):
    def __init__(self, status: int, kind: str, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.payload = {"type": kind, "code": code, "detail": detail, "attr": None}


class PostHogCaptureServer:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        personal_api_key: str = "phx_personal_test",
        project_id: str = "4242",
        max_body_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.api_key = api_key
        self.personal_api_key = personal_api_key
        self.project_id = project_id
        self._deletions: list[dict[str, Any]] = []
        self.max_body_bytes = max_body_bytes
        self.port = 0
        self._lock = threading.Lock()
        self._requests: list[CaptureRequest] = []
        self._fail_status: int | None = None
        self._retry_after: str | None = None
        self._refuse: Callable[[dict[str, Any]], bool] | None = None
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._arrivals = 0
        self._open = threading.Event()
        self._open.set()
        self._arrived = threading.Condition()

    # --- lifecycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PostHogCaptureServer:
        """Listen (again): on a free port the first time, on the same port after `stop()`."""
        if self._server is not None:
            return self
        self._server, self._thread = serve_in_thread(_handler_for(self), name="posthog-capture", port=self.port)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        """Stop listening and cut open keep-alive connections: clients now get 'connection refused'."""
        if self._server is None:
            return
        self._open.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> PostHogCaptureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- faults ------------------------------------------------------------------------------------

    def fail_with(self, status: int, *, retry_after: str | None = None) -> None:
        """Answer every capture request with `status` (e.g. 503) until `recover()`."""
        with self._lock:
            self._fail_status = status
            self._retry_after = retry_after

    def refuse_events(self, predicate: Callable[[dict[str, Any]], bool] | None) -> None:
        """Answer 400 to any request holding an event for which `predicate` is true (None: off)."""
        with self._lock:
            self._refuse = predicate

    def pause(self) -> None:
        """Hold every request (unanswered) until `resume()`: a send that is in flight."""
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def wait_for_requests(self, count: int, *, timeout: float = 10.0) -> bool:
        """Wait until `count` requests have arrived since start or `clear()` (held ones included)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self._arrivals >= count, timeout=timeout)

    def recover(self) -> None:
        with self._lock:
            self._fail_status = None
            self._retry_after = None
            self._refuse = None

    # --- what arrived ------------------------------------------------------------------------------

    def requests(self) -> list[CaptureRequest]:
        """Every capture request received, answered or refused, in arrival order."""
        with self._lock:
            return list(self._requests)

    def accepted_requests(self) -> list[CaptureRequest]:
        return [r for r in self.requests() if r.accepted]

    def events(self) -> list[dict[str, Any]]:
        """The events PostHog would have ingested: those of requests answered 2xx, in order."""
        return [event for request in self.accepted_requests() for event in request.events]

    def deletions(self) -> list[dict[str, Any]]:
        """The bodies of the person deletions answered 202, in arrival order."""
        with self._lock:
            return list(self._deletions)

    def deleted_distinct_ids(self) -> set[str]:
        return {str(i) for body in self.deletions() for i in body.get("distinct_ids", [])}

    def clear(self) -> None:
        """Forget what arrived (the record and the arrival count of `wait_for_requests`)."""
        with self._lock:
            self._requests.clear()
        with self._arrived:
            self._arrivals = 0

    # --- the protocol ------------------------------------------------------------------------------

    def _handle(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        raw = body
        gzipped = False
        status = 200
        payload: Any = None
        events: list[dict[str, Any]] = []
        answer: dict[str, Any] = {"status": 1}
        extra_headers: dict[str, str] = {}
        try:
            if len(body) > self.max_body_bytes:
                raise _Refusal(413, "validation_error", "payload_too_large", "Payload too large")
            compression = (query.get("compression") or [""])[0].lower()
            if headers.get("content-encoding", "").lower() == "gzip" or compression in ("gzip", "gzip-js"):
                gzipped = True
                try:
                    raw = gzip.decompress(body)
                except (OSError, EOFError, zlib.error) as exc:
                    raise _Refusal(400, "validation_error", "invalid_payload", "Malformed request data: gzip") from exc
            try:
                payload = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise _Refusal(400, "validation_error", "invalid_payload", "Malformed request data: json") from exc
            events = self._events_of(path, payload)
            self._authenticate(payload, events, headers)
            for event in events:
                if not isinstance(event, dict) or not event.get("event"):
                    raise _Refusal(400, "validation_error", "invalid_payload", "Invalid payload: event name missing")
                distinct_id = event.get("distinct_id", (event.get("properties") or {}).get("distinct_id"))
                if distinct_id in (None, "") or not str(distinct_id).strip():
                    raise _Refusal(400, "validation_error", "invalid_payload", "Invalid payload: distinct_id missing")
            with self._lock:
                fail_status, retry_after, refuse = self._fail_status, self._retry_after, self._refuse
            if fail_status is not None:
                status, answer = (
                    fail_status,
                    {"type": "server_error", "code": "unavailable", "detail": "down"},
                )
                if retry_after is not None:
                    extra_headers["Retry-After"] = retry_after
            elif refuse is not None and any(refuse(event) for event in events):
                raise _Refusal(400, "validation_error", "invalid_payload", "Invalid payload: event refused")
        except _Refusal as refusal:
            status, answer = refusal.status, refusal.payload
        with self._lock:
            self._requests.append(
                CaptureRequest(
                    path=path,
                    status=status,
                    headers=headers,
                    gzipped=gzipped,
                    raw_body=raw,
                    body=payload,
                    events=events,
                )
            )
        return status, answer, extra_headers

    def _person_deletion(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any] | None]:
        """PostHog's `POST /api/projects/<id>/persons/bulk_delete/` (the fault set by `fail_with` applies)."""
        bearer = headers.get("authorization", "")
        if not bearer.lower().startswith("bearer ") or bearer[7:].strip() != self.personal_api_key:
            detail = "Personal API key found in request Authorization header is invalid."
            return 401, {"type": "authentication_error", "code": "authentication_failed", "detail": detail}
        if path != f"/api/projects/{self.project_id}/persons/bulk_delete/":
            return 404, {"type": "invalid_request", "code": "not_found", "detail": "Not found."}
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return 400, {"type": "validation_error", "code": "parse_error", "detail": "JSON parse error"}
        ids = payload.get("distinct_ids") if isinstance(payload, dict) else None
        if not isinstance(ids, list) or not ids or len(ids) > 1000:
            detail = "You must provide either ids or distinct_ids (at most 1000)"
            return 400, {"type": "validation_error", "code": "invalid_input", "detail": detail}
        with self._lock:
            if self._fail_status is not None:
                return self._fail_status, {"type": "server_error", "code": "unavailable", "detail": "down"}
            self._deletions.append(payload)
        return 202, None

    @staticmethod
    def _events_of(path: str, payload: Any) -> list[dict[str, Any]]:
        if path in BATCH_PATHS:
            batch = payload.get("batch") if isinstance(payload, dict) else payload
        elif isinstance(payload, dict) and isinstance(payload.get("batch"), list):
            batch = payload["batch"]
        else:
            batch = payload if isinstance(payload, list) else [payload]
        if not isinstance(batch, list):
            raise _Refusal(400, "validation_error", "invalid_payload", "Invalid payload: batch must be a list")
        return batch

    def _authenticate(self, payload: Any, events: list[dict[str, Any]], headers: dict[str, str]) -> None:
        keys: set[str] = set()
        if isinstance(payload, dict):
            keys.update(str(payload[name]) for name in ("api_key", "token") if payload.get(name))
        for event in events:
            if isinstance(event, dict):
                keys.update(str(event[name]) for name in ("api_key", "token") if event.get(name))
        bearer = headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            keys.add(bearer[7:].strip())
        if not keys:
            raise _Refusal(
                401,
                "authentication_error",
                "invalid_api_key",
                "API key not provided. You can find your project API key in PostHog project settings.",
            )
        if self.api_key is not None and keys != {self.api_key}:
            raise _Refusal(401, "authentication_error", "invalid_api_key", "Project API key invalid.")


def _handler_for(server: PostHogCaptureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as requests' connection pool expects

        def setup(self) -> None:
            super().setup()
            with server._lock:
                server._connections.add(self.connection)

        def finish(self) -> None:
            with server._lock:
                server._connections.discard(self.connection)
            super().finish()

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            if parts.path.startswith("/api/projects/"):
                status, answer = server._person_deletion(parts.path, headers, body)
                self._answer(status, answer, {})
                return
            if parts.path not in BATCH_PATHS | SINGLE_EVENT_PATHS:
                self._answer(404, {"type": "not_found", "code": "not_found", "detail": "Not found"}, {})
                return
            with server._arrived:
                server._arrivals += 1
                server._arrived.notify_all()
            server._open.wait(timeout=30)
            status, answer, extra = server._handle(parts.path, parse_qs(parts.query), headers, body)
            self._answer(status, answer, extra)

        def _answer(self, status: int, answer: dict[str, Any] | None, extra: dict[str, str]) -> None:
            encoded = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def posthog_capture_server(*, api_key: str | None = None) -> Iterator[PostHogCaptureServer]:
    with PostHogCaptureServer(api_key=api_key) as server:
        yield server
