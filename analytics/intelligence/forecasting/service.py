"""Revenue forecasts: made once per business day by the scoring run (platform and every host with revenue
in the last 120 days) and stored; read by the API."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from analytics import clock
from analytics.errors import NotFound, ValidationFailed
from analytics.intelligence.forecasting.revenue import HORIZON_DAYS, REVENUE_FORECAST, forecast, revenue_series
from analytics.intelligence.registry import model_active
from analytics.metrics.hosts import host_access
from analytics.metrics.periods import business_day
from analytics.models import RevenueForecast
from analytics.security.roles import Principal

logger = logging.getLogger("analytics.predictions")
PLATFORM = ""


@dataclass(frozen=True)
class RevenueRun:
    scopes: int
    model_version: int | None
    skipped: bool = False  # already forecast today


def revenue_forecasts_refresh(*, as_of: datetime | None = None, force: bool = False) -> RevenueRun:
    """Forecast the platform and every host with revenue, once per business day (or when `force`)."""
    now = as_of or clock.now()
    active = model_active(REVENUE_FORECAST.name)
    if active is None:
        return RevenueRun(0, None)
    today = business_day(now)
    newest = RevenueForecast.objects.filter(scope=PLATFORM).order_by("-computed_at").first()
    if (
        not force
        and newest is not None
        and business_day(newest.computed_at) == today
        and newest.model_version == active.version
    ):
        return RevenueRun(0, active.version, skipped=True)
    series = revenue_series(as_of=now)
    hosts = revenue_series(as_of=now, host_ids=_hosts_with_revenue(now))
    rows: list[RevenueForecast] = []
    for scope, one in [*series.items(), *hosts.items()]:
        made = forecast(one, smoothing=scope == PLATFORM)
        for i in range(len(made.expected)):
            rows.append(
                RevenueForecast(
                    scope=scope,
                    day=made.first_day + timedelta(days=i),
                    expected=round(float(made.expected[i]), 2),
                    low=round(float(made.low[i]), 2),
                    high=round(float(made.high[i]), 2),
                    method=made.method,
                    computed_at=now,
                    model_version=active.version,
                )
            )
    with transaction.atomic():
        RevenueForecast.objects.all().delete()
        RevenueForecast.objects.bulk_create(rows, batch_size=2000)
    scopes = len(series) + len(hosts)
    logger.info("predictions.revenue_forecast scopes=%d rows=%d", scopes, len(rows))
    return RevenueRun(scopes, active.version)


def _hosts_with_revenue(now: datetime) -> list[str]:
    from analytics.metrics.revenue import REVENUE_EVENTS
    from analytics.models import UserEvent

    return sorted(
        str(h)
        for h in UserEvent.objects.filter(
            event_name__in=REVENUE_EVENTS, timestamp__gte=now - timedelta(days=120), timestamp__lt=now
        )
        .exclude(host_id=None)
        .exclude(host_id="")
        .values_list("host_id", flat=True)
        .distinct()
    )


def _answer(scope: str, days: int, now: datetime) -> dict[str, Any]:
    if not 1 <= days <= HORIZON_DAYS:
        raise ValidationFailed(f"days is 1…{HORIZON_DAYS}", code="invalid_days", details={"days": days})
    active = model_active(REVENUE_FORECAST.name)
    base: dict[str, Any] = {"scope": "platform" if scope == PLATFORM else "host", "days": days, "as_of": now}
    if active is None:
        return {
            **base,
            "status": "not_enough_data",
            "message": f"no revenue forecast model yet: it needs {REVENUE_FORECAST.minimum_data}",
            "forecast": [],
        }
    today = business_day(now)
    rows = list(RevenueForecast.objects.filter(scope=scope, day__gte=today).order_by("day")[:days])
    if not rows:
        return {
            **base,
            "status": "no_revenue" if scope else "not_enough_data",
            "message": "no revenue in the last 120 days to forecast from" if scope else "not forecast yet",
            "forecast": [],
        }
    evaluation = active.evaluation
    return {
        **base,
        "status": "ok",
        "message": "",
        "currency": "INR",
        "method": rows[0].method,
        "computed_at": rows[0].computed_at,
        "model_version": rows[0].model_version,
        "interval_level": 0.8,
        "total_expected": round(sum(r.expected for r in rows), 2),
        "backtest": {k: evaluation.get(k) for k in ("mase", "snaive_mase", "mase_ratio", "coverage", "origins")},
        "forecast": [{"date": r.day, "expected": r.expected, "low": r.low, "high": r.high} for r in rows],
    }


def revenue_forecast_get(*, days: int = HORIZON_DAYS) -> dict[str, Any]:
    return _answer(PLATFORM, days, clock.now())


def host_revenue_forecast_get(*, caller: Principal, host_id: str, days: int = HORIZON_DAYS) -> dict[str, Any]:
    host_access(caller=caller, host_id=host_id)  # 404 for another host's id or an unknown host
    if not host_id:
        raise NotFound("no host ''", code="host_not_found")
    return {**_answer(host_id, days, clock.now()), "host_id": host_id}
