"""What every local test server that speaks HTTP shares: a quiet threading server on 127.0.0.1,
served from a daemon thread, and its orderly stop. The protocol lives in each server's handler."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietServer(ThreadingHTTPServer):
    """No tracebacks on stderr when a client hangs up mid-request (the tests make them do that)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def serve_in_thread(
    handler: type[BaseHTTPRequestHandler], *, name: str, port: int = 0
) -> tuple[QuietServer, threading.Thread]:
    """Listen on 127.0.0.1:`port` (0: a free port) and serve from a daemon thread."""
    server = QuietServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    return server, thread


def stop_serving(server: QuietServer | None, thread: threading.Thread | None) -> None:
    """Stop listening, close the socket and wait for the serving thread."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=5)
