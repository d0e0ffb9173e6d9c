"""A bounded in-process buffer that writes tracked events in bulk, off the host's request path.

The request middleware and the signal bridge run inside the host platform's requests and
transactions; all they pay is `append` (a lock held for a deque append). A background flusher thread
writes what was appended through `event_ingest` — the one pipeline — every `batch_size` events or
every `flush_interval` seconds, whichever comes first, and once more at process exit (atexit).

Faults never reach the host:
- full buffer: the new event is refused and counted (`dropped`, and the Prometheus counter
  `loopin_collection_buffer_dropped_total{reason="overflow"}`), never blocking the caller;
- analytics database unreachable (`OperationalError`/`InterfaceError`): the batch stays at the head
  of the buffer and is retried with exponential backoff and jitter (0.5 s doubling to 30 s); events
  that arrive meanwhile wait behind it, bounded by the buffer size (overflow counted as above);
- any other write error: that batch is dropped and counted (`write_error`) so one poisoned batch
  cannot stall the buffer forever; the flusher thread itself never dies.

Events carry their uuid from the moment they are buffered, so a retried batch is stored once.
A forked child (pre-fork servers) starts with an empty buffer: the parent writes what it held.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from analytics import clock
from analytics.collection.envelope import RequestContext
from analytics.operations.telemetry import BUFFER_DROPPED

logger = logging.getLogger(__name__)

OVERFLOW = "overflow"
WRITE_ERROR = "write_error"
SHUTDOWN = "shutdown"
_RETRY = "retry"
_TRANSIENT = (OperationalError, InterfaceError)
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 30.0


@dataclass(frozen=True)
class BufferStats:
    """A snapshot of the buffer, for tests and health checks."""

    pending: int
    written: int
    dropped: int
    dropped_by_reason: Mapping[str, int]
    consecutive_failures: int
    last_error: str


class EventBuffer:
    """Raw tracked events waiting to be written; one flusher thread per buffer (started lazily)."""

    def __init__(self, *, capacity: int, flush_interval: float, batch_size: int) -> None:
        if capacity < 1 or batch_size < 1 or flush_interval <= 0:
            raise ValueError("capacity and batch_size must be positive, flush_interval above zero")
        self.capacity = capacity
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self._reset_state()
        _LIVE.add(self)

    def _reset_state(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._pending: deque[tuple[str, dict[str, Any]]] = deque()
        self._thread: threading.Thread | None = None
        self._accepted = 0  # events ever appended
        self._done = 0  # accepted events written or dropped after acceptance (they leave from the head)
        self._written = 0
        self._dropped: dict[str, int] = {}
        self._failures = 0
        self._last_error = ""
        self._wakeups = 0  # flush() calls: each one allows an immediate retry during a backoff
        self._flush_target = 0  # the newest flush() waits until this many accepted events are done
        self._retry_delay = 0.0
        self._failed_wakeup = 0  # the latest wakeup whose write attempt failed
        self._closing = False

    # --- the host's side: never blocks on the database, never raises -----------------------------

    def append(self, event: dict[str, Any], *, source: str) -> bool:
        """Queue one raw event (an envelope for `event_ingest`); False when full (counted as dropped)."""
        with self._cond:
            if len(self._pending) >= self.capacity or self._closing:
                self._count_dropped(OVERFLOW if not self._closing else SHUTDOWN, 1)
                return False
            self._pending.append((source, event))
            self._accepted += 1
            if self._thread is None:
                self._start()
            if len(self._pending) >= self.batch_size:
                self._cond.notify_all()
        return True

    # --- tests and shutdown ----------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Write everything appended so far; True when it was all written (or counted as dropped).

        Returns False at `timeout`, or as soon as a write attempt made after this call failed (the
        events stay buffered and are retried with backoff).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._accepted
            if self._done >= target:
                return True
            if self._thread is None:
                self._start()
            self._wakeups += 1
            wakeup = self._wakeups
            self._flush_target = max(self._flush_target, target)
            self._cond.notify_all()
            while self._done < target and self._failed_wakeup < wakeup:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return self._done >= target

    def close(self, timeout: float = 5.0) -> bool:
        """Flush and stop the flusher (atexit); events still unwritten are counted as dropped."""
        flushed = self.flush(timeout)
        with self._cond:
            self._closing = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return flushed

    def pending_events(self) -> list[tuple[str, dict[str, Any]]]:
        """A copy of what waits to be written, as (source, raw event) — for tests and debugging."""
        with self._cond:
            return [(source, dict(event)) for source, event in self._pending]

    @property
    def dropped(self) -> int:
        with self._cond:
            return sum(self._dropped.values())

    def stats(self) -> BufferStats:
        with self._cond:
            return BufferStats(
                pending=len(self._pending),
                written=self._written,
                dropped=sum(self._dropped.values()),
                dropped_by_reason=dict(self._dropped),
                consecutive_failures=self._failures,
                last_error=self._last_error,
            )

    # --- the flusher thread -----------------------------------------------------------------------

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="loopin-analytics-buffer", daemon=True)
        self._thread.start()

    def _count_dropped(self, reason: str, count: int) -> None:
        self._dropped[reason] = self._dropped.get(reason, 0) + count
        BUFFER_DROPPED.labels(reason).inc(count)

    def _next_batch(self) -> tuple[str, list[dict[str, Any]], int] | None:
        """Wait for work; then the head of the buffer (one source, ≤ batch_size), or None to stop.

        Written at once when a batch is full, when a `flush()` is waiting (even during a backoff, once
        per call) or when closing; otherwise after `flush_interval` (or the backoff after a failure).
        """
        with self._cond:
            started = time.monotonic()
            while True:
                if self._closing and (not self._pending or self._failures):
                    if self._pending:  # the database is down at exit: counted, never silently lost
                        self._count_dropped(SHUTDOWN, len(self._pending))
                        self._done += len(self._pending)
                        self._pending.clear()
                        self._cond.notify_all()
                    return None
                if not self._pending:
                    self._cond.wait()
                    started = time.monotonic()
                    continue
                flush_wanted = self._done < self._flush_target and self._wakeups > self._failed_wakeup
                full = not self._failures and len(self._pending) >= self.batch_size
                delay = self._retry_delay if self._failures else self.flush_interval
                waited = time.monotonic() - started
                if flush_wanted or full or self._closing or waited >= delay:
                    break
                self._cond.wait(delay - waited)
            source = self._pending[0][0]
            batch = []
            for event_source, event in islice(self._pending, self.batch_size):
                if event_source != source:
                    break
                batch.append(event)
            return source, batch, self._wakeups

    def _backoff(self) -> float:
        step = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2 ** min(self._failures - 1, 16))
        return step * random.uniform(0.5, 1.0)

    def _run(self) -> None:
        while True:
            try:
                work = self._next_batch()
                if work is None:
                    return
                source, batch, wakeup = work
                outcome = self._write(source, batch)
                with self._cond:
                    if outcome is None:  # written
                        self._failures = 0
                        self._written += len(batch)
                    elif outcome == WRITE_ERROR:
                        self._failures = 0
                        self._count_dropped(WRITE_ERROR, len(batch))
                    else:  # _RETRY: keep the batch at the head, back off
                        self._failures += 1
                        self._retry_delay = self._backoff()
                        self._failed_wakeup = wakeup
                        self._cond.notify_all()
                        continue
                    for _ in batch:
                        self._pending.popleft()
                    self._done += len(batch)
                    self._cond.notify_all()
            except Exception:  # the flusher must outlive anything; the host never sees it
                logger.exception("collection.buffer_flusher_error")
                time.sleep(_BACKOFF_FIRST)

    def _write(self, source: str, batch: list[dict[str, Any]]) -> str | None:
        """None when written; _RETRY to keep the batch and back off; WRITE_ERROR to drop it."""
        from analytics.collection.pipeline import event_ingest

        try:
            result = event_ingest(batch=batch, source=source, request=RequestContext(received_at=clock.now()))
        except _TRANSIENT as error:
            self._last_error = type(error).__name__
            logger.warning(
                "collection.buffer_write_failed source=%s events=%d error=%s retry=backoff",
                source,
                len(batch),
                type(error).__name__,
            )
            _close_connection()
            return _RETRY
        except Exception as error:
            self._last_error = type(error).__name__
            logger.exception("collection.buffer_batch_dropped source=%s events=%d", source, len(batch))
            _close_connection()
            return WRITE_ERROR
        if result.rejected:
            logger.warning(
                "collection.buffer_events_rejected source=%s rejected=%d (kept in the quarantine)",
                source,
                result.rejected,
            )
        try:
            close_old_connections()
        except Exception:  # noqa: S110  (closing a dead connection must not count as a failed write)
            pass
        return None


def _close_connection() -> None:
    try:
        connection.close()
    except Exception:  # noqa: S110  (the connection is already broken; the next attempt opens a fresh one)
        pass


_LIVE: weakref.WeakSet[EventBuffer] = weakref.WeakSet()
_default: EventBuffer | None = None
_default_lock = threading.Lock()


def event_buffer() -> EventBuffer:
    """The process's buffer (ANALYTICS_BUFFER_SIZE, ANALYTICS_BUFFER_FLUSH_SECONDS, ANALYTICS_BATCH_SIZE)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = EventBuffer(
                    capacity=settings.ANALYTICS_BUFFER_SIZE,
                    flush_interval=settings.ANALYTICS_BUFFER_FLUSH_SECONDS,
                    batch_size=settings.ANALYTICS_BATCH_SIZE,
                )
    return _default


def _close_all() -> None:
    for buffer in list(_LIVE):
        buffer.close(timeout=5.0)


def _after_fork_in_child() -> None:
    # The parent still holds (and writes) these events; the child must not write them again, and
    # its copy of the parent's lock and thread are not usable.
    global _default_lock
    _default_lock = threading.Lock()
    for buffer in list(_LIVE):
        buffer._reset_state()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
