"""The quarantine of refused events: list them, and replay them through the pipeline after a fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from analytics import clock
from analytics.collection.pipeline import event_ingest
from analytics.models import FailedEvent
from analytics.models.events import EventSource
from analytics.privacy.encryption import payload_decrypt
from analytics.security.audit import audit_record

MAX_REPLAY = 10_000
DONE = ("stored", "duplicate", "dropped")  # replay outcomes that settle a quarantined event


@dataclass(frozen=True)
class ReplayReport:
    replayed: int
    stored: int
    duplicates: int
    rejected: int
    dropped: int


def failed_event_list(*, reason: str | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[FailedEvent]]:
    """(total, one page) of quarantined events, newest first, their encrypted text in clear (not saved)."""
    queryset = FailedEvent.objects.all()
    if reason:
        queryset = queryset.filter(reason=reason)
    page = list(queryset.order_by("-received_at", "-id")[offset : offset + limit])
    for row in page:
        row.payload = payload_decrypt(row.payload)
    return queryset.count(), page


def failed_event_replay(*, ids: Sequence[int] | None = None, reason: str | None = None, actor: str) -> ReplayReport:
    """Re-ingest quarantined events not yet settled (by ids and/or reason), oldest first.

    Each row records the replay's outcome; still-invalid events stay in the quarantine as
    `rejected` (not quarantined a second time) and can be replayed again after the next fix.
    """
    queryset = FailedEvent.objects.exclude(replay_status__in=DONE)
    if ids:
        queryset = queryset.filter(id__in=list(ids))
    if reason:
        queryset = queryset.filter(reason=reason)
    with transaction.atomic():
        rows = list(queryset.select_for_update().order_by("id")[:MAX_REPLAY])
        if not rows:
            return ReplayReport(0, 0, 0, 0, 0)
        batch = [payload_decrypt(row.payload) for row in rows]
        result = event_ingest(batch=batch, source=EventSource.REPLAY, quarantine=False)
        now = clock.now()
        for row, outcome in zip(rows, result.outcomes, strict=True):
            row.replayed_at = now
            row.replay_status = outcome.status
        FailedEvent.objects.bulk_update(rows, ["replayed_at", "replay_status"], batch_size=500)
        report = ReplayReport(len(rows), result.stored, result.duplicates, result.rejected, result.dropped)
        audit_record(
            actor=actor,
            action="failed_events.replay",
            target_type="failed_event",
            details={"ids": [r.id for r in rows][:100], "reason": reason, **report.__dict__},
        )
    return report
