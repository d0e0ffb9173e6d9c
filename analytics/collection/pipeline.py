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
from django.db import transaction
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
from analytics.models import FailedEvent
from analytics.operations.telemetry import INGESTED
from analytics.privacy.consent import opted_out_among
from analytics.privacy.encryption import payload_encrypt
from analytics.privacy.scrubbing import scrub_for_quarantine

logger = logging.getLogger(__name__)

STORED = "stored"
DUPLICATE = "duplicate"
REJECTED = "rejected"
DROPPED = "dropped"
UUID_CONFLICT = "uuid_conflict"


@dataclass(slots=True)
class EventOutcome:
    """What happened to one event of a batch. Not frozen: one is built per event, and a frozen dataclass's
    constructor sets each field through `object.__setattr__` (treat it as immutable)."""

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


def _ids_trimmed(payload: object) -> object:
    """The ids of a refused event without surrounding spaces, as the envelope reads them (so a subject
    request finds `" 4711 "` under 4711)."""
    if not isinstance(payload, dict):
        return payload
    trimmed = {key: payload[key].strip() for key in ("user_id", "anonymous_id") if isinstance(payload.get(key), str)}
    return {**payload, **trimmed} if trimmed else payload


def _quarantine_row(raw: Any, rejection: EventRejected, *, source: str, request: RequestContext) -> FailedEvent:
    payload = payload_encrypt(_ids_trimmed(scrub_for_quarantine(raw)))
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


_MAX_ID_LENGTH = 128  # the envelope's limit on ids


def _raw_ids(raw: Any) -> tuple[str | None, str | None]:
    """(user id, anonymous id) of an event refused as invalid, read from it as sent (a string or a number)."""
    if not isinstance(raw, dict):
        return None, None

    def text(key: str) -> str | None:
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        found = str(value).strip()
        # An id no consent row can hold (empty, too long, NUL, a lone surrogate) is nobody's: never looked up.
        if not found or len(found) > _MAX_ID_LENGTH or "\x00" in found:
            return None
        try:
            found.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return found

    return text("user_id"), text("anonymous_id")


def _opted_out_dropped(index: int, uuid: str | None) -> EventOutcome:
    return EventOutcome(
        index=index, uuid=uuid, status=DROPPED, reason="opted_out", message="the user opted out of analytics"
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
    refused: list[tuple[int, EventRejected, tuple[str | None, str | None]]] = []
    for index, raw in enumerate(batch):
        try:
            event = prepare_event(raw, source=source, request=request, size=_event_size(raw))
        except EventRejected as rejection:
            refused.append((index, rejection, _raw_ids(raw)))
            continue
        prepared.append((index, event))

    # Consent before anything is kept: an opted-out person's events are dropped, valid or not.
    ids = [(event.user_id, event.anonymous_id) for _, event in prepared] + [sent for _, _, sent in refused]
    opted_out = opted_out_among(
        user_ids={user for user, _ in ids if user},
        anonymous_ids={anonymous for user, anonymous in ids if anonymous and not user},
    )
    for index, invalid, (user_id, anonymous_id) in refused:
        if opted_out.covers(user_id, anonymous_id):
            outcomes.append(_opted_out_dropped(index, str(invalid.uuid) if invalid.uuid else None))
        else:
            outcomes.append(_rejected(index, invalid))
            failed.append(_quarantine_row(batch[index], invalid, source=source, request=request))
    first_by_uuid: dict[uuid_lib.UUID, PreparedEvent] = {}
    to_insert: list[tuple[int, PreparedEvent]] = []
    copies: list[tuple[int, PreparedEvent]] = []  # same uuid and payload as an earlier event of the batch
    for index, event in prepared:
        if opted_out.covers(event.user_id, event.anonymous_id):
            outcomes.append(_opted_out_dropped(index, str(event.uuid)))
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
