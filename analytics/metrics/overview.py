"""The overview: the platform's headline numbers over the last N business days, plus KPI cards.

Reads the rollups (DailyEventRollup, DailyUserActivity, UserFirstActivity), the sessions and the
stored BusinessMetric rows. Every number uses the registry's own computation over the window as a
reporting period, so it means exactly what docs/metrics.md says:
- total_events: tracked events in the window except api_request;
- total_users: `daily_active_users`'s definition over the window (distinct identified active users);
- new_users: identified users whose first active business day is in the window;
- total_revenue: `net_revenue` over the window (completed - refunded - charged back);
- active_users_today: distinct identified users active on the current business day;
- conversion_rate: `overall_conversion_rate` over the window (from the funnel-reach rollup);
- avg_session_length: `avg_session_length_minutes` over the window.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Max, Sum

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import last_days
from analytics.metrics.catalogue import MetricCard, metric_cards
from analytics.metrics.evaluation import Evaluator
from analytics.metrics.periods import business_today
from analytics.models import Alert, BusinessMetric, DailyEventRollup, DailyUserActivity, UserFirstActivity
from analytics.models.alerts import AlertState

MAX_DAYS = 365
CACHE_SIZE = 64
_cache: dict[tuple[int, date, datetime | None], Overview] = {}
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
    avg_session_length: float | None
    top_insights: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[MetricCard] = field(default_factory=list)


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


def metrics_generation() -> datetime | None:
    """When the newest metric rows were computed (index `bm_computed`): every metrics run rewrites at least
    the current periods' rows, so this changes with every run and with nothing else."""
    return BusinessMetric.objects.aggregate(last=Max("computed_at"))["last"]


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
        active_users_today=DailyUserActivity.objects.filter(day=today).aggregate(n=Count("user_id", distinct=True))[
            "n"
        ],
        conversion_rate=evaluator.value("overall_conversion_rate", period),
        avg_session_length=evaluator.value("avg_session_length_minutes", period),
        top_insights=[],
        alerts=[],
        kpis=metric_cards(today=today),
    )


def overview_get(*, days: int = 7, use_cache: bool = True) -> Overview:
    """How is the marketplace doing over the last `days` business days (today included)?

    The numbers come from the rollups and metric rows, which change only when the metrics run (hourly, or
    on demand): they are computed once per (window, metrics run) and kept in this process (at most
    `CACHE_SIZE` windows). The open alerts are read on every call — acknowledging one shows at once."""
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
    return replace(cached, alerts=open_alerts())
