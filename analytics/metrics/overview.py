"""The overview: the platform's headline numbers over the last N business days, plus KPI cards.

Reads the rollups (DailyEventRollup, DailyUserActivity, UserFirstActivity), the sessions and the
stored BusinessMetric rows. Every number uses the registry's own computation over the window as a
reporting period, so it means exactly what docs/metrics.md says:
- total_events: tracked events in the window except api_request;
- total_users: `daily_active_users`'s definition over the window (distinct identified active users);
- new_users: identified users whose first active business day is in the window;
- total_revenue: `net_revenue` over the window (completed - refunded - charged back);
- active_users_today: distinct identified users with a user-initiated event on the current business day,
  read from the tracked events when asked (real time, not from the last metrics run), as is events_today;
- conversion_rate: `overall_conversion_rate` over the window (from the funnel-reach rollup);
- avg_session_length: `avg_session_length_minutes` over the window.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q, Sum

from analytics import clock
from analytics.errors import ValidationFailed
from analytics.intelligence.insights.store import top_insights
from analytics.metrics.analyses import last_days
from analytics.metrics.catalogue import MetricCard, metric_cards
from analytics.metrics.evaluation import Evaluator
from analytics.metrics.periods import business_today, day_start
from analytics.metrics.selectors import NON_USER_EVENTS
from analytics.models import Alert, DailyEventRollup, UserEvent, UserFirstActivity
from analytics.models.alerts import AlertState
from analytics.operations.task_runs import METRICS_RUN, generation

MAX_DAYS = 365
CACHE_SIZE = 64
_cache: dict[tuple[int, date, int], Overview] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Overview:
    days: int
    date_from: date
    date_to: date
    total_events: int
    total_users: int
    new_users: int
    total_revenue: float
    active_users_today: int
    conversion_rate: float | None
    conversion_definition: str
    avg_session_length: float | None
    top_insights: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[MetricCard] = field(default_factory=list)
    events_today: int = 0
    today_as_of: datetime | None = None


def open_alerts(*, limit: int = 20) -> list[dict[str, Any]]:
    """Open alerts, newest first (index `alert_state_opened`)."""
    return [
        dict(row)
        for row in Alert.objects.filter(state=AlertState.OPEN)
        .order_by("-opened_at")
        .values(
            "id",
            "metric_name",
            "metric_type",
            "severity",
            "state",
            "title",
            "message",
            "value",
            "threshold",
            "unit",
            "period_type",
            "period_start",
            "breakdown_key",
            "opened_at",
        )[:limit]
    ]


def overview_cache_clear() -> None:
    """Forget the cached overviews (tests that freeze the clock reuse the same metrics-run instant)."""
    with _cache_lock:
        _cache.clear()


def metrics_generation() -> int:
    """How many metrics runs have finished. It changes when a run finishes — not when it starts or while
    it writes — so an overview computed mid-run is dropped as soon as that run is done, in every worker
    process (each keys its own cache on this database-held number)."""
    return generation(METRICS_RUN)


CONVERSION_DEFINITION = (
    "overall_conversion_rate: identified viewers who requested a listing, paid for it (unless free) and "
    "checked in within 14 days of the view, ÷ identified viewers"
)


@dataclass(frozen=True)
class Today:
    """The current business day so far, read from the tracked events now."""

    active_users: int
    events: int
    as_of: datetime


def today_so_far(today: date) -> Today:
    """Distinct identified users with a user-initiated event, and events (except API request logs), since
    the start of the business day — one read of the day's events (index `ue_time`)."""
    now = clock.now()
    events = UserEvent.objects.filter(timestamp__gte=day_start(today), timestamp__lte=now)
    totals = events.exclude(event_name="api_request").aggregate(
        events=Count("id"),
        users=Count("user_id", distinct=True, filter=~Q(event_name__in=NON_USER_EVENTS) & Q(user_id__isnull=False)),
    )
    return Today(active_users=int(totals["users"] or 0), events=int(totals["events"] or 0), as_of=now)


def _overview_compute(days: int, today: date) -> Overview:
    window = last_days(days, today=today)
    evaluator = Evaluator()
    period = window.period
    events = (
        DailyEventRollup.objects.filter(day__gte=window.date_from, day__lte=window.date_to)
        .exclude(event_name="api_request")
        .aggregate(n=Sum("events"))["n"]
    )
    return Overview(
        days=days,
        date_from=window.date_from,
        date_to=window.date_to,
        total_events=int(events or 0),
        total_users=int(evaluator.value("daily_active_users", period) or 0),
        new_users=UserFirstActivity.objects.filter(
            first_day__gte=window.date_from, first_day__lte=window.date_to
        ).count(),
        total_revenue=float(evaluator.value("net_revenue", period) or 0.0),
        active_users_today=0,  # real time: filled on every call (overview_get)
        conversion_rate=evaluator.value("overall_conversion_rate", period),
        conversion_definition=CONVERSION_DEFINITION,
        avg_session_length=evaluator.value("avg_session_length_minutes", period),
        top_insights=[],
        alerts=[],
        kpis=metric_cards(today=today),
    )


def overview_get(*, days: int = 7, use_cache: bool = True) -> Overview:
    """How is the marketplace doing over the last `days` business days (today included)?

    The numbers come from the rollups and metric rows, which change only when the metrics run (hourly, or
    on demand): they are computed once per (window, finished metrics run) and kept in this process (at
    most `CACHE_SIZE` windows). Today's figures (active users, events) and the open alerts are read on
    every call — real time, and an acknowledged alert shows at once."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1…{MAX_DAYS}", code="invalid_days")
    today = business_today()
    key = (days, today, metrics_generation())
    cached = _cache.get(key) if use_cache else None
    if cached is None:
        cached = _overview_compute(days, today)
        if use_cache:
            with _cache_lock:
                if len(_cache) >= CACHE_SIZE:
                    _cache.pop(next(iter(_cache)))
                _cache[key] = cached
    now_today = today_so_far(today)
    return replace(
        cached,
        alerts=open_alerts(),
        top_insights=top_insights(),
        active_users_today=now_today.active_users,
        events_today=now_today.events,
        today_as_of=now_today.as_of,
    )
