"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn closes a connection that stays idle *between* requests (`--timeout-keep-alive`), but a
connection that opens and never finishes its headers — or dribbles them a byte at a time — is held
open for ever. This protocol answers 408 and closes the connection when the headers of a request
are not complete within `ANALYTICS_HEADER_TIMEOUT_SECONDS` of the connection opening or the
request's first byte. Bodies have their own deadlines in the application (analytics/api/uploads.py).

Serve with `uvicorn loopin_backend.asgi:application --http loopin_backend.server_protocol:HeaderDeadlineProtocol`
(docs/operations.md, "Serving"); `make run` does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

_MESSAGE = b"request headers not received in time"
# The uvicorn options of every way this service is served (bench/, the integration tests; the Makefile
# spells the same): this protocol, and uvicorn's own close of connections idle between requests.
UVICORN_OPTIONS = ("--http", "loopin_backend.server_protocol:HeaderDeadlineProtocol", "--timeout-keep-alive", "5")


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus a header deadline; everything else is uvicorn's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout: float = settings.ANALYTICS_HEADER_TIMEOUT_SECONDS
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self._header_timeout, self._headers_late)

    def _disarm_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[408],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(_MESSAGE)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    _MESSAGE,
                ]
            )
        )
        self.transport.close()
