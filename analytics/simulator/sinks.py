"""Where the simulated events go: the ingestion pipeline in this process, or a server over HTTP.

Both go through `event_ingest` — in-process directly (source `simulator`), over HTTP through the
public batch endpoint (source `http`) — so every event is validated and scrubbed like any other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

logger = logging.getLogger(__name__)

BATCH_PATH = "/api/analytics/events/batch"


class DeliveryFailed(RuntimeError):
    """The events could not be delivered (refused key, unreachable server, …); the message says why."""


@dataclass
class Delivery:
    """What the pipeline answered, summed over every batch sent."""

    sent: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    dropped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(
        self,
        *,
        stored: int,
        duplicates: int,
        rejected: int,
        dropped: int,
        problems: Sequence[tuple[str, str]],
    ) -> None:
        self.sent += stored + duplicates + rejected + dropped
        self.stored += stored
        self.duplicates += duplicates
        self.rejected += rejected
        self.dropped += dropped
        for reason, message in problems:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            if len(self.examples) < 5:
                self.examples.append(f"{reason}: {message}")


class Sink(Protocol):
    delivery: Delivery

    def send(self, events: list[dict[str, Any]]) -> None: ...


class InProcessSink:
    """`event_ingest(batch=…, source="simulator")` in this process."""

    def __init__(self) -> None:
        self.delivery = Delivery()

    def send(self, events: list[dict[str, Any]]) -> None:
        from analytics.collection.pipeline import event_ingest
        from analytics.models.events import EventSource

        result = event_ingest(batch=events, source=EventSource.SIMULATOR)
        self.delivery.add(
            stored=result.stored,
            duplicates=result.duplicates,
            rejected=result.rejected,
            dropped=result.dropped,
            problems=[
                (o.reason or "rejected", o.message or "")
                for o in result.outcomes
                if o.status in ("rejected", "dropped")
            ],
        )


class HttpSink:
    """POST `{base_url}/api/analytics/events/batch` with the write key, retrying what can be retried.

    `client` is any `httpx.Client` whose base URL is the service (the command builds one from
    `--url`; tests pass FastAPI's TestClient, which is one). A 503, a 5xx or a connection failure is
    retried with backoff (a replayed batch is answered `duplicate`, never stored twice); a refused key
    or a refused batch stops the run with the server's message.
    """

    def __init__(self, client: Any, *, key: str, attempts: int = 6, backoff: float = 0.5) -> None:
        self.client = client
        self.key = key
        self.attempts = attempts
        self.backoff = backoff
        self.delivery = Delivery()

    def _post(self, body: bytes) -> Any:
        import httpx

        headers = {"X-API-Key": self.key, "Content-Type": "application/json"}
        last_error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.post(BATCH_PATH, content=body, headers=headers)
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response.json()
                if response.status_code in (401, 403):
                    raise DeliveryFailed(f"the server refused the write key (HTTP {response.status_code})")
                if response.status_code < 500 and response.status_code != 429:
                    raise DeliveryFailed(
                        f"the server refused a batch (HTTP {response.status_code}): {response.text[:300]}"
                    )
                last_error = f"HTTP {response.status_code}"
            if attempt < self.attempts:
                delay = self.backoff * 2 ** (attempt - 1)
                logger.warning("simulator.batch_retry attempt=%d error=%s delay=%.1f", attempt, last_error, delay)
                time.sleep(delay)
        raise DeliveryFailed(f"could not deliver a batch after {self.attempts} attempts ({last_error})")

    def send(self, events: list[dict[str, Any]]) -> None:
        answer = self._post(orjson.dumps({"events": events}))
        self.delivery.add(
            stored=answer["stored"],
            duplicates=answer["duplicates"],
            rejected=answer["rejected"],
            dropped=answer.get("dropped", 0),
            problems=[
                (r.get("reason") or "rejected", r.get("message") or "")
                for r in answer["results"]
                if r["status"] in ("rejected", "dropped")
            ],
        )


@contextmanager
def processing_deferred() -> Iterator[None]:
    """In embedded mode, skip the in-process processing run after every committed batch; the caller
    processes everything once at the end (`processing_run`) — the same code, run once.

    Without a broker, each stored batch triggers `process_new_events` eagerly in the sender's thread;
    for a bulk load that is a second pass over every batch. With a broker the per-batch message is
    cheap and processing happens in the workers, so nothing is changed.
    """
    from django.conf import settings

    from analytics.collection.signals import events_stored
    from analytics.tasks.dispatch import enqueue_processing

    if not getattr(settings, "CELERY_EMBEDDED", False):
        yield
        return
    uid = "analytics.enqueue_processing"
    disconnected = events_stored.disconnect(enqueue_processing, dispatch_uid=uid)
    try:
        yield
    finally:
        if disconnected:
            events_stored.connect(enqueue_processing, dispatch_uid=uid)


def bulk_load_analyze() -> None:
    """On PostgreSQL, refresh the planner's statistics of the tables a bulk load filled, before the
    processing pass reads them: with statistics from when the table was a fraction of its size, the
    pass's session lookups went to parallel scans and 5.9 M events processed at under 1,000 a second
    instead of 5,500 (docs/benchmarks.md). Autovacuum would get there, later."""
    from analytics.metrics.analysis_session import planner_statistics_refresh
    from analytics.models import Session, UserEvent

    planner_statistics_refresh(UserEvent._meta.db_table, Session._meta.db_table)


# Pages of WAL SQLite may accumulate before it checkpoints during a bulk load (about 400 MB).
BULK_WAL_PAGES = 100_000


@contextmanager
def bulk_load_tuning() -> Iterator[None]:
    """On SQLite, checkpoint the write-ahead log once at the end of a bulk load instead of after
    nearly every batch (each checkpoint syncs the database file: about 10% of a 5,000-user load was
    spent waiting on those syncs). Only this process's connection is changed, and only for the load;
    the log is checkpointed and truncated afterwards. Nothing changes on other databases.
    """
    from django.db import OperationalError, connection

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        row = cursor.fetchone()
        previous = int(row[0]) if row else 1000
        cursor.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_PAGES:d}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={previous:d}")
            if not connection.in_atomic_block:  # a checkpoint cannot run inside the caller's transaction
                try:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except OperationalError as exc:  # busy readers: SQLite checkpoints on a later commit
                    logger.info("simulator.checkpoint_deferred error=%s", exc)
