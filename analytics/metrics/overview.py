"""The overview: the platform's headline numbers over the last N business days, plus KPI cards.

Reads the rollups (DailyEventRollup, DailyUserActivity, UserFirstActivity), the sessions and the
stored BusinessMetric rows. Every number uses the registry's own computation over the window as a
reporting period, so it means exactly what docs/metrics.md says:
- total_events: tracked events in the window except api_request;
- total_users: `daily_active_users`'s definition over the window (distinct identified active users);
- new_users: identified users whose first active business day is in the window;
- total_revenue: `net_revenue` over the window (completed - refunded - charged back);
- active_users_today: distinct identified users active on the current business day;
- conversion_rate: `overall_conversion_rate` over the window (the one figure that follows journeys in
  the tracked events; memoised per window and metrics run — the current day's stored
  `overall_conversion_rate` row is rewritten by every run — for at most `_CONVERSION_TTL` seconds);
- avg_session_length: `avg_session_length_minutes` over the window.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Sum

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, last_days
from analytics.metrics.catalogue import MetricCard, metric_cards
from analytics.metrics.evaluation import Evaluator
from analytics.metrics.periods import business_today
from analytics.models import BusinessMetric, DailyEventRollup, DailyUserActivity, UserFirstActivity

MAX_DAYS = 365
_CONVERSION_TTL = 300.0
_memo_lock = threading.Lock()
_conversion_memo: dict[tuple[date, date, datetime | None], tuple[float, float | None]] = {}


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


def _last_run_marker(today: date) -> datetime | None:
    """When the metrics last ran: every run recomputes the current day's conversion row (one index lookup)."""
    return (
        BusinessMetric.objects.filter(
            metric_name="overall_conversion_rate", period_type="day", period_start=today, breakdown_key=""
        )
        .values_list("computed_at", flat=True)
        .first()
    )


def _conversion(window: DateRange, evaluator: Evaluator) -> float | None:
    key = (window.date_from, window.date_to, _last_run_marker(window.date_to))
    now = time.monotonic()
    with _memo_lock:
        hit = _conversion_memo.get(key)
        if hit is not None and now - hit[0] < _CONVERSION_TTL:
            return hit[1]
    value = evaluator.value("overall_conversion_rate", window.period)
    with _memo_lock:
        if len(_conversion_memo) > 256:
            _conversion_memo.clear()
        _conversion_memo[key] = (now, value)
    return value


def conversion_memo_clear() -> None:
    """Forget memoised window conversions (after a bulk reload, or between independent fixtures)."""
    with _memo_lock:
        _conversion_memo.clear()


def open_alerts(*, limit: int = 20) -> list[dict[str, Any]]:
    """Open alerts, newest first, when the alerting model is installed (it is built separately, so it is
    imported at call time and its fields are read defensively); else none."""
    try:
        from analytics.models.alerts import Alert  # type: ignore[import-not-found]
    except ImportError:
        return []
    fields = {f.name for f in Alert._meta.get_fields() if getattr(f, "concrete", False)}
    rows = Alert.objects.all()
    for state_field in ("state", "status"):
        if state_field in fields:
            rows = rows.filter(**{state_field: "open"})
            break
    order = next((f for f in ("opened_at", "created_at", "triggered_at") if f in fields), "pk")
    wanted = [
        f
        for f in (
            "id",
            "metric_name",
            "metric_type",
            "severity",
            "state",
            "status",
            "title",
            "message",
            "value",
            "threshold",
            "unit",
            "period_type",
            "period_start",
            "breakdown_key",
            "opened_at",
            "created_at",
        )
        if f in fields
    ]
    return [dict(row) for row in rows.order_by(f"-{order}").values(*wanted)[:limit]]


def overview_get(*, days: int = 7) -> Overview:
    """How is the marketplace doing over the last `days` business days (today included)?"""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1…{MAX_DAYS}", code="invalid_days")
    today = business_today()
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
        conversion_rate=_conversion(window, evaluator),
        avg_session_length=evaluator.value("avg_session_length_minutes", period),
        top_insights=[],
        alerts=open_alerts(),
        kpis=metric_cards(today=today),
    )
