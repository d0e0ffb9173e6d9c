"""Dirty business days: the processing step that marks them, and the mark itself.

The step runs first among the processing steps (analytics/collection/processing.py), inside the
chunk's transaction, so it sees sessions and listings as they were before the chunk. It marks, for a
rebuild of the day's rollups (scope `rollups`):
- the business day of every event in the chunk (late events included);
- every day with anonymous-only events of an anonymous id the chunk links to a user (the identity
  merge makes that history the user's activity);
and for a recomputation of metrics only (scope `metrics`: the day's rollups are unchanged):
- the current start day of every session the chunk touches (a late event can move a session's start,
  and an event after midnight lengthens a session of the day before): session metrics count sessions by
  their start day, and no rollup reads sessions — so the previous day is not rebuilt for every session
  that crosses midnight;
- the scheduled start and end days of every listing that the chunk's listing-changing events (created,
  updated, cancelled, requested, checked in) mention, before and after the chunk — listing metrics count
  listings by those days and read their requests and check-ins. A view changes no listing metric.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db.models.functions import TruncDate

from analytics import clock
from analytics.collection.pending import PendingEvent
from analytics.collection.timing import TimeProblem, parse_instant
from analytics.metrics.periods import business_day, business_zone
from analytics.models import DirtyScope, EventListing, MetricDirtyDay, Session, UserEvent
from analytics.privacy import retention as data_retention

_IN_CHUNK = 500


# The events that change a listing metric (listing state, requests, check-ins).
LISTING_METRIC_EVENTS = frozenset(
    {"event_created", "event_updated", "event_cancelled", "event_requested", "event_checked_in"}
)


def days_mark_dirty(*, days: Iterable[date], scope: str = DirtyScope.ROLLUPS) -> None:
    now = clock.now()
    kept = sorted(data_retention.days_not_frozen(set(days)))  # a day the retention purge froze is never recomputed
    rows = [MetricDirtyDay(day=day, scope=scope, token=uuid.uuid4().hex, marked_at=now) for day in kept]
    if rows:
        MetricDirtyDay.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["day", "scope"], update_fields=["token", "marked_at"]
        )


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _IN_CHUNK):
        yield ordered[start : start + _IN_CHUNK]


def mark_metric_days_dirty(events: Sequence[PendingEvent]) -> None:
    """Processing step: mark every business day whose metrics the chunk can change."""
    zone = business_zone()
    instants: list[datetime] = [event.timestamp for event in events]
    metric_instants: list[datetime] = []  # session start days, listing days: their metrics only
    for chunk in _chunks(e.session_id for e in events if e.session_id):
        metric_instants += Session.objects.filter(session_id__in=chunk).values_list("started_at", flat=True)
    changing = [e for e in events if e.listing_id and e.event_name in LISTING_METRIC_EVENTS]
    for chunk in _chunks(e.listing_id for e in changing if e.listing_id):
        for starts_at, ends_at in EventListing.objects.filter(listing_id__in=chunk).values_list("starts_at", "ends_at"):
            metric_instants += [at for at in (starts_at, ends_at) if at is not None]
    for event in changing:
        if event.event_name in ("event_created", "event_updated"):
            for key in ("starts_at", "ends_at"):
                try:
                    metric_instants.append(parse_instant(key, event.properties.get(key)))
                except TimeProblem:
                    pass
    days_mark_dirty(days={business_day(at, zone) for at in metric_instants}, scope=DirtyScope.METRICS)
    days = {business_day(at, zone) for at in instants}
    for chunk in _chunks(e.anonymous_id for e in events if e.anonymous_id and e.user_id):
        days.update(
            UserEvent.objects.filter(anonymous_id__in=chunk, user_id__isnull=True)
            .annotate(day=TruncDate("timestamp", tzinfo=zone))
            .values_list("day", flat=True)
            .distinct()
        )
    days_mark_dirty(days=days)
