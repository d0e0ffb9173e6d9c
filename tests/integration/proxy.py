"""A TCP proxy that tests close and reopen to make a real outage (docs/design.md, "Quality bars").

`TcpProxy(target_host, target_port)` listens on a free port of 127.0.0.1 (or the given one) and
forwards every connection to the target.
- `close()` stops listening — new connections are refused (ECONNREFUSED, exactly like a stopped
  server) — and aborts every open connection, both sides;
- `stall()` drops the open connections too but keeps accepting new ones and never answers them
  (a hung server: only the client's own timeouts end the wait);
- `open()` forwards again, on the same port.
It runs its own asyncio loop in a daemon thread, so the test code that drives it stays synchronous.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from concurrent.futures import Future
from typing import Any

_CHUNK = 64 * 1024


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, port: int | None = None, name: str = "proxy") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.name = name
        self.accepted = 0  # connections accepted since start (to assert traffic went through us)
        self._server: asyncio.AbstractServer | None = None
        self._stalled = False
        self._transports: set[asyncio.WriteTransport] = set()
        self._upstream: set[asyncio.WriteTransport] = set()  # the target's side of each live pair
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"tcp-proxy-{name}", daemon=True)
        self._thread.start()

    # --- control (called from test threads) ---------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._server is not None

    def open(self) -> None:
        """Forward (again) on `self.port`; raises OSError if the port was taken meanwhile."""
        self._call(self._open())

    def stall(self) -> None:
        """Drop every connection; accept new ones but never answer them."""
        self._call(self._stall())

    def close(self) -> None:
        """Refuse new connections and drop every existing one."""
        self._call(self._close())

    def upstream_ports(self) -> set[int]:
        """The local ports of the live connections to the target: how the target sees this proxy's clients
        (PostgreSQL's `pg_stat_activity.client_port`)."""
        return self._call(self._upstream_ports())

    def stop(self) -> None:
        """Close and end the proxy's thread (end of the session)."""
        with contextlib.suppress(Exception):
            self.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> TcpProxy:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=10)

    # --- the loop side ------------------------------------------------------------------------------
    async def _open(self) -> None:
        if self._stalled:
            self._stalled = False
            self._abort_all()
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._handle, self.host, self.port, reuse_address=True, backlog=256)

    async def _stall(self) -> None:
        await self._open()
        self._stalled = True
        self._abort_all()

    async def _upstream_ports(self) -> set[int]:
        return {
            transport.get_extra_info("sockname")[1]
            for transport in self._upstream
            if not transport.is_closing() and transport.get_extra_info("sockname")
        }

    def _abort_all(self) -> None:
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _close(self) -> None:
        self._stalled = False
        server, self._server = self._server, None
        if server is not None:
            server.close()  # stop listening now: new connections are refused
        self._abort_all()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=2)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted just as we closed
            client_writer.transport.abort()
            return
        self.accepted += 1
        if self._stalled:  # hold the connection open, read nothing, answer nothing
            self._transports.add(client_writer.transport)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        pair = (client_writer.transport, upstream_writer.transport)
        self._transports.update(pair)
        self._upstream.add(upstream_writer.transport)
        try:
            await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))
        finally:
            self._upstream.discard(upstream_writer.transport)
            for transport in pair:
                self._transports.discard(transport)
                transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            writer.transport.abort()
