"""What the analytics engine (ClickHouse) still has to receive from the system of record.

Per-row markers, never a high-water mark on ids: an event whose transaction commits late gets its marker
in that same transaction, so no replication run can pass it by (analytics/metrics/clickhouse/replication.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models

from analytics import clock


def replication_on() -> bool:
    """Is an analytics engine configured (`ANALYTICS_CLICKHOUSE_URL`)? Markers are written only then."""
    return settings.ANALYTICS_CLICKHOUSE is not None


class ReplicaPending(models.Model):
    """An event to (re)send: written in the transaction that processed it, or that gave it a user id
    (identity merge). Removed in the transaction that confirms it reached the engine."""

    event_id = models.BigIntegerField(primary_key=True)

    class Meta:
        db_table = "analytics_replica_pending"

    def __str__(self) -> str:
        return f"event #{self.event_id} to replicate"

    @classmethod
    def mark(cls, event_ids: Sequence[int]) -> None:
        """Mark events to be (re)sent, inside the caller's transaction; nothing without an engine."""
        if event_ids and replication_on():
            markers = [ReplicaPending(event_id=i) for i in event_ids]
            ReplicaPending.objects.bulk_create(markers, ignore_conflicts=True, batch_size=5000)


class ReplicaDeletion(models.Model):
    """A deletion the engine must apply: the events of an erasure (their uuids), or every event before a
    retention horizon. Written in the transaction that deleted them here."""

    created_at = models.DateTimeField()
    event_uuids = models.JSONField(default=list, blank=True)
    before = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "analytics_replica_deletion"

    def __str__(self) -> str:
        return f"deletion #{self.pk}"

    @classmethod
    def record(cls, *, event_uuids: Sequence[Any] = (), before: datetime | None = None) -> None:
        """Record, inside the caller's transaction, a deletion the engine must apply: these events (an
        erasure), or every event before `before` (a retention purge); nothing without an engine."""
        if replication_on() and (event_uuids or before is not None):
            cls.objects.create(created_at=clock.now(), event_uuids=[str(u) for u in event_uuids], before=before)


class ReplicaState(models.Model):
    """The one replication of the configured engine: its identity (also stored in the engine, so a wiped
    engine is noticed), and the initial copy's progress (events up to `backfill_until` by id, then done;
    later events reach the engine through `ReplicaPending`)."""

    target = models.CharField(max_length=300, unique=True)
    replica_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    backfill_after = models.BigIntegerField(default=0)
    backfill_until = models.BigIntegerField(default=0)
    backfill_done = models.BooleanField(default=False)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "analytics_replica_state"

    def __str__(self) -> str:
        return f"replica of {self.target}"
