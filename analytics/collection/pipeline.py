"""The one ingestion pipeline for every source.

validate → normalise time → enabled/consent check → privacy scrub → enrich (user agent, server-side
session when the client sent none) → bulk insert (unique uuid) → commit → answer. After the commit,
`events_stored` is sent so processing is enqueued; if that fails, the sweeper finds the rows by
`processed_at IS NULL`.
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import JSONField, Value

from analytics import clock
from analytics.collection.envelope import (
    MAX_EVENT_BYTES,
    EventRejected,
    PreparedEvent,
    Problem,
    RequestContext,
    prepare_event,
)
from analytics.collection.sessions import assign_sessions
from analytics.collection.signals import events_stored
from analytics.collection.storage import insert_new_events, stored_hashes
from analytics.models import FailedEvent, UserConsent
from analytics.operations.telemetry import INGESTED
from analytics.privacy.scrubbing import scrub_for_quarantine

logger = logging.getLogger(__name__)

STORED = "stored"
DUPLICATE = "duplicate"
REJECTED = "rejected"
DROPPED = "dropped"
UUID_CONFLICT = "uuid_conflict"


@dataclass(frozen=True)
class EventOutcome:
    """What happened to one event of a batch."""

    index: int
    uuid: str | None
    status: str
    reason: str | None = None
    message: str | None = None
    problems: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class IngestResult:
    outcomes: tuple[EventOutcome, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, outcomes: list[EventOutcome]) -> IngestResult:
        counts = {STORED: 0, DUPLICATE: 0, REJECTED: 0, DROPPED: 0}
        for outcome in outcomes:
            counts[outcome.status] += 1
        return cls(tuple(sorted(outcomes, key=lambda o: o.index)), counts)

    @property
    def stored(self) -> int:
        return self.counts[STORED]

    @property
    def duplicates(self) -> int:
        return self.counts[DUPLICATE]

    @property
    def rejected(self) -> int:
        return self.counts[REJECTED]

    @property
    def dropped(self) -> int:
        return self.counts[DROPPED]


def _event_size(raw: Any) -> int:
    try:
        return len(orjson.dumps(raw, default=str))
    except (TypeError, orjson.JSONEncodeError):
        return 0  # not JSON-serialisable as given; validation reports the offending value


def _quarantine_row(raw: Any, rejection: EventRejected, *, source: str, request: RequestContext) -> FailedEvent:
    payload = scrub_for_quarantine(raw)
    encoded = orjson.dumps(payload, default=str)
    if len(encoded) > MAX_EVENT_BYTES:
        payload = {"_truncated": True, "preview": encoded[:65536].decode("utf-8", "replace")}
    return FailedEvent(
        received_at=request.received_at,
        source=source,
        reason=rejection.code,
        # Problem paths and messages can quote the client's own keys (an email used as a key).
        error_message=str(scrub_for_quarantine(rejection.message)),
        error_details={"problems": scrub_for_quarantine([p.as_dict() for p in rejection.problems])},
        event_uuid=str(rejection.uuid) if rejection.uuid else "",
        # A batch item that is JSON null is kept as JSON null: a bare None would be SQL NULL, which the
        # column refuses (and "no payload" is not what was sent).
        payload=Value(None, JSONField()) if payload is None else payload,
    )


def _rejected(index: int, rejection: EventRejected) -> EventOutcome:
    return EventOutcome(
        index=index,
        uuid=str(rejection.uuid) if rejection.uuid else None,
        status=REJECTED,
        reason=rejection.code,
        message=rejection.message,
        problems=tuple(p.as_dict() for p in rejection.problems),
    )


_OPTED_OUT_SQL = f"SELECT user_id FROM {UserConsent._meta.db_table} WHERE analytics_opt_out AND user_id = ANY(%s)"  # noqa: S608


def _opted_out(user_ids: set[str]) -> set[str]:
    if not user_ids:
        return set()
    if connection.vendor == "postgresql":
        # One array parameter: an ORM `IN` list of a placeholder per user costs ~4 ms of Python per
        # 1,000-event batch to build and bind (docs/benchmarks.md).
        with connection.cursor() as cursor:
            cursor.execute(_OPTED_OUT_SQL, [list(user_ids)])
            return {row[0] for row in cursor.fetchall()}
    return set(
        UserConsent.objects.filter(user_id__in=user_ids, analytics_opt_out=True).values_list("user_id", flat=True)
    )


def event_ingest(
    *, batch: Sequence[Any], source: str, request: RequestContext | None = None, quarantine: bool = True
) -> IngestResult:
    """Ingest `batch` (raw event mappings) from `source`; returns one outcome per event, in order.

    The result is returned only after the stored rows and the quarantined rejects are committed.
    Database errors propagate (the API answers 503); nothing is half-written because everything
    happens in one transaction. Rejected events are kept in `FailedEvent` unless `quarantine` is
    off (a replay of the quarantine does not quarantine again).
    """
    request = request or RequestContext(received_at=clock.now())
    if not settings.ANALYTICS_ENABLED:
        return IngestResult.of(
            [
                EventOutcome(
                    index=i,
                    uuid=None,
                    status=DROPPED,
                    reason="analytics_disabled",
                    message="analytics collection is disabled (ANALYTICS_ENABLED=false)",
                )
                for i in range(len(batch))
            ]
        )

    outcomes: list[EventOutcome] = []
    failed: list[FailedEvent] = []
    prepared: list[tuple[int, PreparedEvent]] = []
    for index, raw in enumerate(batch):
        try:
            event = prepare_event(raw, source=source, request=request, size=_event_size(raw))
        except EventRejected as rejection:
            outcomes.append(_rejected(index, rejection))
            failed.append(_quarantine_row(raw, rejection, source=source, request=request))
            continue
        prepared.append((index, event))

    opted_out = _opted_out({event.user_id for _, event in prepared if event.user_id})
    first_by_uuid: dict[uuid_lib.UUID, PreparedEvent] = {}
    to_insert: list[tuple[int, PreparedEvent]] = []
    copies: list[tuple[int, PreparedEvent]] = []  # same uuid and payload as an earlier event of the batch
    for index, event in prepared:
        if event.user_id in opted_out:
            outcomes.append(
                EventOutcome(
                    index=index,
                    uuid=str(event.uuid),
                    status=DROPPED,
                    reason="opted_out",
                    message="the user opted out of analytics",
                )
            )
            continue
        earlier = first_by_uuid.get(event.uuid)
        if earlier is None:
            first_by_uuid[event.uuid] = event
            to_insert.append((index, event))
        elif earlier.payload_hash == event.payload_hash:
            copies.append((index, event))
        else:
            conflict = EventRejected(
                [Problem("uuid", UUID_CONFLICT, "this uuid was sent earlier in the batch with a different payload")],
                uuid=event.uuid,
            )
            outcomes.append(_rejected(index, conflict))
            failed.append(_quarantine_row(batch[index], conflict, source=source, request=request))

    with transaction.atomic():
        sessioned = assign_sessions([event for _, event in to_insert])
        to_insert = [(index, event) for (index, _), event in zip(to_insert, sessioned, strict=True)]
        inserted = insert_new_events(sessioned)
        existing = stored_hashes(e.uuid for _, e in to_insert if e.uuid not in inserted)
        conflicting: set[uuid_lib.UUID] = set()
        for index, event in to_insert:
            if event.uuid in inserted:
                outcomes.append(EventOutcome(index=index, uuid=str(event.uuid), status=STORED))
            elif existing.get(event.uuid) == event.payload_hash:
                outcomes.append(EventOutcome(index=index, uuid=str(event.uuid), status=DUPLICATE))
            else:
                conflicting.add(event.uuid)
                conflict = EventRejected(
                    [Problem("uuid", UUID_CONFLICT, "this uuid is already stored with a different payload")],
                    uuid=event.uuid,
                )
                outcomes.append(_rejected(index, conflict))
                failed.append(_quarantine_row(batch[index], conflict, source=source, request=request))
        # A copy shares its first occurrence's fate: `duplicate` only if that one is stored.
        for index, event in copies:
            if event.uuid in conflicting:
                conflict = EventRejected(
                    [Problem("uuid", UUID_CONFLICT, "this uuid is already stored with a different payload")],
                    uuid=event.uuid,
                )
                outcomes.append(_rejected(index, conflict))
                failed.append(_quarantine_row(batch[index], conflict, source=source, request=request))
            else:
                outcomes.append(EventOutcome(index=index, uuid=str(event.uuid), status=DUPLICATE))
        if failed and quarantine:
            FailedEvent.objects.bulk_create(failed, batch_size=500)
        if inserted:
            count = len(inserted)
            transaction.on_commit(
                lambda: events_stored.send_robust(sender=event_ingest, count=count, source=source), robust=True
            )

    result = IngestResult.of(outcomes)
    for status, count in result.counts.items():
        if count:
            INGESTED.labels(source, status).inc(count)
    logger.info(
        "ingest.batch_stored source=%s sent=%d stored=%d duplicates=%d rejected=%d dropped=%d",
        source,
        len(batch),
        result.stored,
        result.duplicates,
        result.rejected,
        result.dropped,
    )
    return result
