"""Admission of request bodies: slow or large uploads never hold what other clients need.

A write key ships inside client apps, so anyone has one; ingestion must stay open to everyone else
while somebody opens connections and sends nothing (docs/api.md, "Slow and large uploads"):

- a body is read under a deadline: at most `idle_seconds` between two chunks and
  `deadline_seconds` for the whole body (408 `request_timeout`, and the connection closes);
- at most `per_prefix` uploads of one IP prefix (/24, /48) are read at once, holding at most
  `prefix_bytes` between them (429 `too_many_uploads` beyond either: that client's problem only);
- at most `total_bytes` are buffered across every upload of the process (503 `server_busy`
  beyond it, with `Retry-After`);
- the processing slot (parsing and storing, `processing_slots` at once) is taken only once the
  body is fully read — an upload in progress never holds it.

The IP prefix decides, not the write key: a per-key cap would let an attacker starve the app's own key.
Counts are per server process and per event loop (each uvicorn worker has its own).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from django.conf import settings

from analytics.errors import TooManyRequests, Unavailable

RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class UploadLimits:
    per_prefix: int
    prefix_bytes: int
    total_bytes: int
    idle_seconds: float
    deadline_seconds: float
    processing_slots: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            per_prefix=settings.ANALYTICS_UPLOADS_PER_IP_PREFIX,
            prefix_bytes=settings.ANALYTICS_UPLOAD_BYTES_PER_IP_PREFIX,
            total_bytes=settings.ANALYTICS_UPLOAD_BUFFER_BYTES,
            idle_seconds=settings.ANALYTICS_BODY_IDLE_TIMEOUT_SECONDS,
            deadline_seconds=settings.ANALYTICS_BODY_TIMEOUT_SECONDS,
            processing_slots=settings.ANALYTICS_INGEST_CONCURRENCY,
        )


class UploadTicket:
    """One admitted upload: the bytes it buffers are charged to its prefix and to the process."""

    def __init__(self, gate: UploadGate, prefix: str) -> None:
        self._gate = gate
        self.limits = gate.limits
        self.prefix = prefix
        self.buffered = 0

    def reserve(self, size: int) -> None:
        """Charge `size` more buffered bytes, or refuse the upload (429 for this prefix, 503 for all)."""
        gate = self._gate
        limits = gate.limits
        if gate.prefix_bytes[self.prefix] + size > limits.prefix_bytes:
            raise TooManyRequests(
                "this address has too many bytes in uploads in progress; retry after the others finish",
                code="too_many_uploads",
                retry_after=RETRY_AFTER_SECONDS,
                details={"limit_bytes": limits.prefix_bytes},
            )
        if gate.total_bytes + size > limits.total_bytes:
            raise Unavailable(
                "the server is buffering its maximum of uploads; retry shortly",
                code="server_busy",
                retry_after=RETRY_AFTER_SECONDS,
            )
        gate.prefix_bytes[self.prefix] += size
        gate.total_bytes += size
        self.buffered += size

    def release(self) -> None:
        gate = self._gate
        gate.prefix_bytes[self.prefix] -= self.buffered
        gate.total_bytes -= self.buffered
        self.buffered = 0
        if gate.prefix_bytes[self.prefix] <= 0:
            del gate.prefix_bytes[self.prefix]


class UploadGate:
    """The admission state of one event loop."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.uploads: Counter[str] = Counter()
        self.prefix_bytes: Counter[str] = Counter()
        self.total_bytes = 0
        self.processing = asyncio.Semaphore(limits.processing_slots)

    @asynccontextmanager
    async def upload(self, prefix: str) -> AsyncIterator[UploadTicket]:
        """Admit one upload from `prefix` (429 `too_many_uploads` if it already has its maximum)."""
        if self.uploads[prefix] >= self.limits.per_prefix:
            raise TooManyRequests(
                f"at most {self.limits.per_prefix} uploads from one address are read at once",
                code="too_many_uploads",
                retry_after=RETRY_AFTER_SECONDS,
                details={"limit_uploads": self.limits.per_prefix},
            )
        self.uploads[prefix] += 1
        ticket = UploadTicket(self, prefix)
        try:
            yield ticket
        finally:
            ticket.release()
            self.uploads[prefix] -= 1
            if self.uploads[prefix] <= 0:
                del self.uploads[prefix]


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, UploadGate] = weakref.WeakKeyDictionary()


def upload_gate() -> UploadGate:
    """This event loop's gate (a semaphore belongs to one loop; tests run several)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = UploadGate(UploadLimits.from_settings())
    return gate
