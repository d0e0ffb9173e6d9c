"""Retention: personal data aged out on schedule (the daily task `cleanup_old_analytics_data`).

What goes, each by its own setting (docs/operations.md, "Retention"):
- tracked events of business days before the horizon (`ANALYTICS_RETENTION_DAYS`), with the per-person
  rows derived from them for those days (daily activity, events per day, funnel reach) and the people's
  daily predictions — but never an event not yet processed, or still waiting to be forwarded while PostHog
  forwarding is on;
- sessions started on business days before `ANALYTICS_SESSION_RETENTION_DAYS`, and idle session cursors;
- quarantined events received before `ANALYTICS_FAILED_EVENT_RETENTION_DAYS`;
- audit rows older than `ANALYTICS_AUDIT_RETENTION_DAYS`;
- forwarding rows parked (refused by PostHog) before `ANALYTICS_PARKED_OUTBOX_RETENTION_DAYS`; a row still
  waiting to be sent is never removed by age;
- earlier segmentation runs (personas no longer current) created before the events horizon.

What stays: the anonymous aggregates (daily counts per event name) and every stored metric, which stay valid
because the purged days are frozen: once a run has purged days, `frozen_before()` is the first kept day, no
rollup or metric of an earlier day (or of a period that begins before it, or whose previous period does)
is ever recomputed, and ingestion
refuses events before the horizon (`events_horizon`), so nothing can make them dirty again. Each person's
first active day (`UserFirstActivity`) also stays, so a returning customer is not counted as new.

Work is done in batches of `BATCH_SIZE` rows, each its own transaction: a run stopped by its time budget or
a crash has committed what it removed, and the next run resumes; a second run over the same data removes
nothing (idempotent). Each run is recorded (`RetentionPurge`) with what it removed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q

from analytics import clock
from analytics.collection.forwarding import posthog_enabled
from analytics.metrics.periods import business_day, day_start
from analytics.models import (
    AuditLog,
    DailyFunnelReach,
    DailyUserActivity,
    DailyUserEvent,
    FailedEvent,
    ForwardingOutbox,
    ReplicaDeletion,
    RetentionPurge,
    Session,
    SessionCursor,
    UserEvent,
    UserPersona,
    UserPrediction,
)

logger = logging.getLogger("analytics.retention")

BATCH_SIZE = 5_000
RUN_BUDGET_SECONDS = 600.0  # the task's soft time limit is above it; the next run resumes


def events_horizon(now: datetime | None = None) -> datetime:
    """The first instant whose tracked events are kept: the start of the business day
    `ANALYTICS_RETENTION_DAYS` before today. Ingestion refuses events before it."""
    today = business_day(now or clock.now())
    return day_start(today - timedelta(days=settings.ANALYTICS_RETENTION_DAYS))


def frozen_before() -> date | None:
    """The first business day not purged (None before any purge): days before it are never recomputed."""
    return RetentionPurge.objects.order_by("-frozen_before").values_list("frozen_before", flat=True).first()


def events_ever_purged() -> bool:
    """Has any retention run removed tracked events? (First activity then outlives the events it came from.)"""
    return RetentionPurge.objects.filter(removed__analytics_user_event__gt=0).exists()


def days_not_frozen(days: set[date]) -> set[date]:
    """`days` without the frozen ones."""
    first_kept = frozen_before()
    return days if first_kept is None else {day for day in days if day >= first_kept}


@dataclass
class PurgeReport:
    frozen_before: date
    removed: dict[str, int] = field(default_factory=dict)
    complete: bool = True


def _age_horizon(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


def _purge(model: type[models.Model], rows: Q, *, deadline: float, report: PurgeReport) -> None:
    """Delete the rows of `model` matching `rows` in batches (each one transaction) until none is left or
    the deadline passes; counts what went, cascades included, under each table."""
    manager = model._default_manager
    while True:
        if time.monotonic() > deadline:
            report.complete = False
            return
        with transaction.atomic():
            ids = list(manager.filter(rows).order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
            if not ids:
                return
            if model is UserEvent:  # the analytics engine's copy goes too (replication applies it)
                ReplicaDeletion.record(event_uuids=list(manager.filter(pk__in=ids).values_list("uuid", flat=True)))
            _, by_model = manager.filter(pk__in=ids).delete()
        for label, count in by_model.items():
            table = _table_of(label)
            report.removed[table] = report.removed.get(table, 0) + count


def _table_of(label: str) -> str:
    from django.apps import apps

    return str(apps.get_model(label)._meta.db_table)


def retention_purge(*, now: datetime | None = None, budget_seconds: float = RUN_BUDGET_SECONDS) -> PurgeReport:
    """Remove what every retention setting says is too old (see the module's docstring); recorded."""
    now = now or clock.now()
    horizon = events_horizon(now)
    first_kept = business_day(horizon)
    deadline = time.monotonic() + budget_seconds
    report = PurgeReport(frozen_before=first_kept)
    # Days are frozen before their events go: a rollup rebuild running meanwhile must not recompute a day
    # from half its events. A run that stops early has frozen days it has not finished purging — the next
    # run finishes them, and nothing can recompute them in between.
    run = RetentionPurge.objects.create(ran_at=now, frozen_before=first_kept, removed={}, complete=False)
    old_events = Q(timestamp__lt=horizon, processed_at__isnull=False)
    if posthog_enabled():  # rows still to be sent wait for it; without PostHog nothing will ever send them
        old_events &= ~Q(Exists(ForwardingOutbox.objects.filter(event_id=OuterRef("pk"), parked_at__isnull=True)))
    sessions_kept_from = day_start(business_day(now) - timedelta(days=settings.ANALYTICS_SESSION_RETENTION_DAYS))
    steps: list[tuple[type[models.Model], Q]] = [
        (UserEvent, old_events),
        (DailyUserActivity, Q(day__lt=first_kept)),
        (DailyUserEvent, Q(day__lt=first_kept)),
        (DailyFunnelReach, Q(day__lt=first_kept)),
        (UserPrediction, Q(scored_on__lt=first_kept)),
        # Whole business days, like the events: the first kept day keeps all its sessions.
        (Session, Q(started_at__lt=sessions_kept_from)),
        (SessionCursor, Q(last_event_at__lt=sessions_kept_from)),
        (FailedEvent, Q(received_at__lt=_age_horizon(settings.ANALYTICS_FAILED_EVENT_RETENTION_DAYS, now))),
        (AuditLog, Q(occurred_at__lt=_age_horizon(settings.ANALYTICS_AUDIT_RETENTION_DAYS, now))),
        (
            ForwardingOutbox,
            Q(parked_at__lt=_age_horizon(settings.ANALYTICS_PARKED_OUTBOX_RETENTION_DAYS, now)),
        ),
        # Earlier segmentation runs, kept for comparison: as long as the events they were computed from.
        (UserPersona, Q(is_current=False, created_at__lt=horizon)),
    ]
    for model, rows in steps:
        _purge(model, rows, deadline=deadline, report=report)
        if not report.complete:
            break
    run.removed, run.complete = report.removed, report.complete
    run.save(update_fields=["removed", "complete"])
    logger.info(
        "retention.purged frozen_before=%s complete=%s removed=%s",
        first_kept,
        report.complete,
        ",".join(f"{table}={count}" for table, count in sorted(report.removed.items())) or "nothing",
    )
    return report
