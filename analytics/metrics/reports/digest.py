"""What a digest says about its period: the metrics that moved most against their recent baseline, the
open alerts, the hosts that earned most, anomalies of the period, the revenue outlook and the insights first
raised in the period.

A digest reports the newest *complete* period (yesterday, last week, last month). A metric moved when
its whole-platform value differs by at least MOVED_PERCENT from the median of its last four comparable
periods (the same weekday of the previous four weeks for a day; the previous four weeks or months),
judged only when at least MIN_VOLUME events stood behind the period (a rate over five payments is not
news). Movers are ranked by the size of the change × log10(1 + volume). Reads stored metrics, the
daily event rollup, alerts, anomalies and forecasts only.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Sum

from analytics import clock
from analytics.errors import ValidationFailed
from analytics.intelligence.forecasting.service import revenue_forecast_get
from analytics.intelligence.insights.store import top_insights
from analytics.metrics.overview import open_alerts
from analytics.metrics.periods import Period, business_day, day_start
from analytics.metrics.registry import metric_list
from analytics.models import BusinessMetric, DailyEventRollup, DetectedAnomaly

PERIODS = {"daily": "day", "weekly": "week", "monthly": "month"}
MOVED_PERCENT = 25.0
BASELINE_PERIODS = 4
MIN_BASELINE = 2
MIN_VOLUME = 20
MAX_MOVERS = 10
TOP_HOSTS = 5
OUTLOOK_DAYS = 7
MAX_INSIGHTS = 10
# The events behind each metric family: the volume that says whether a change is news.
VOLUME_EVENTS: dict[str, tuple[str, ...] | None] = {
    "activity": None,  # every event
    "retention": None,
    "growth": None,
    "conversion": ("event_viewed",),
    "revenue": ("payment_completed", "payment_refunded", "payment_chargeback"),
    "payments": ("payment_initiated", "payment_completed", "payment_failed"),
    "identity": ("otp_generated", "otp_verified", "otp_failed", "profile_updated"),
    "reliability": ("api_request",),
    "listings": ("event_created", "event_checked_in", "event_cancelled"),
    "satisfaction": ("review_submitted",),
}


@dataclass(frozen=True)
class Mover:
    metric_name: str
    kind: str
    category: str
    unit: str
    direction: str
    value: float
    baseline: float
    change_percentage: float
    volume: int
    good_news: bool

    @property
    def score(self) -> float:
        return abs(self.change_percentage) * math.log10(1 + self.volume)


@dataclass(frozen=True)
class HostHighlight:
    host_id: str
    net_revenue: float
    change_percentage: float | None


@dataclass(frozen=True)
class Digest:
    kind: str  # daily, weekly, monthly
    period: Period
    generated_at: datetime
    movers: list[Mover] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    hosts: list[HostHighlight] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    outlook: dict[str, Any] | None = None
    insights: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        label = {"daily": self.period.start.strftime("%a %d %b %Y"), "weekly": f"week of {self.period.start:%d %b %Y}"}
        return f"Loopin {self.kind} digest — {label.get(self.kind, self.period.start.strftime('%B %Y'))}"


def reported_period(kind: str, today: date) -> Period:
    """The newest complete period of the digest's kind before `today`."""
    try:
        period_type = PERIODS[kind]
    except KeyError:
        raise ValidationFailed(f"period is one of {', '.join(PERIODS)}", code="invalid_period") from None
    return Period.containing(period_type, today).previous()


def comparable_periods(period: Period) -> list[Period]:
    """The last BASELINE_PERIODS periods a value is compared with (a day: the same weekday before)."""
    if period.type == "day":
        return [Period.containing("day", period.start - timedelta(days=7 * n)) for n in range(1, BASELINE_PERIODS + 1)]
    found, current = [], period
    for _ in range(BASELINE_PERIODS):
        current = current.previous()
        found.append(current)
    return found


def _volumes(period: Period) -> dict[str, int]:
    """Events of the period per metric family (one grouped read of the daily rollup)."""
    per_event = dict(
        DailyEventRollup.objects.filter(day__gte=period.start, day__lte=period.end)
        .values("event_name")
        .annotate(n=Sum("events"))
        .values_list("event_name", "n")
        .order_by()
    )
    everything = sum(n for name, n in per_event.items() if name != "api_request")
    return {
        family: everything if names is None else sum(per_event.get(name, 0) for name in names)
        for family, names in VOLUME_EVENTS.items()
    }


def movers(period: Period, *, today: date) -> list[Mover]:
    """The registry's metrics that moved at least MOVED_PERCENT against their baseline, biggest first. A
    metric that settles late (the 14-day conversion) is left out until the period has settled."""
    baseline_periods = comparable_periods(period)
    starts = [period.start, *(p.start for p in baseline_periods)]
    rows = BusinessMetric.objects.filter(
        period_type=period.type, breakdown_key="", period_start__in=starts, value__isnull=False
    ).values_list("metric_name", "period_start", "value")
    values: dict[str, dict[date, float]] = {}
    for name, start, value in rows:
        if value is not None:
            values.setdefault(name, {})[start] = float(value)
    volumes = _volumes(period)
    found = []
    for definition in metric_list():
        if period.type not in definition.periods:
            continue
        if definition.settles_after_days and period.end >= today - timedelta(days=definition.settles_after_days):
            continue
        series = values.get(definition.name, {})
        current = series.get(period.start)
        history = [series[p.start] for p in baseline_periods if p.start in series]
        volume = volumes.get(definition.category, 0)
        if current is None or len(history) < MIN_BASELINE or volume < MIN_VOLUME:
            continue
        baseline = statistics.median(history)
        if baseline == 0:
            continue
        change = 100.0 * (current - baseline) / abs(baseline)
        if abs(change) < MOVED_PERCENT:
            continue
        found.append(
            Mover(
                metric_name=definition.name,
                kind=definition.kind.value.upper(),
                category=definition.category,
                unit=definition.unit.value,
                direction=definition.direction.value,
                value=current,
                baseline=baseline,
                change_percentage=change,
                volume=volume,
                good_news=(change > 0) == (definition.direction.value == "up"),
            )
        )
    return sorted(found, key=lambda m: (-m.score, m.metric_name))[:MAX_MOVERS]


def host_highlights(period: Period) -> list[HostHighlight]:
    """The hosts with the most net revenue in the period, with the change against the previous one."""
    rows = (
        BusinessMetric.objects.filter(
            metric_name="net_revenue",
            period_type=period.type,
            period_start=period.start,
            breakdown_key__startswith="host=",
            value__gt=0,
        )
        .order_by("-value", "breakdown_key")
        .values_list("breakdown_key", "value", "change_percentage")[:TOP_HOSTS]
    )
    return [HostHighlight(key.removeprefix("host="), float(value or 0), change) for key, value, change in rows]


def digest_build(kind: str, *, now: datetime | None = None) -> Digest:
    """The digest of the newest complete period of `kind` (daily, weekly or monthly)."""
    now = now or clock.now()
    period = reported_period(kind, business_day(now))
    anomalies = [
        {
            "metric_name": a.metric_name,
            "date": a.day,
            "expected_value": a.expected_value,
            "actual_value": a.actual_value,
            "severity": a.severity,
        }
        for a in DetectedAnomaly.objects.filter(day__gte=period.start, day__lte=period.end).order_by("day")
    ]
    forecast = revenue_forecast_get(days=OUTLOOK_DAYS)
    outlook = (
        {"days": OUTLOOK_DAYS, "expected": forecast["total_expected"], "method": forecast["method"]}
        if forecast["status"] == "ok"
        else None
    )
    return Digest(
        kind=kind,
        period=period,
        generated_at=now,
        movers=movers(period, today=business_day(now)),
        alerts=open_alerts(limit=20),
        hosts=host_highlights(period),
        anomalies=anomalies,
        outlook=outlook,
        insights=new_insights(period),
    )


def new_insights(period: Period) -> list[dict[str, Any]]:
    """Insights about the platform first raised during the period and still open, highest priority first."""
    return top_insights(
        limit=MAX_INSIGHTS,
        raised_from=day_start(period.start),
        raised_before=day_start(period.end + timedelta(days=1)),
    )
