"""Anomaly detection as the service runs it: every 30 minutes (`detect_anomalies_batch`) each watched series
is judged on its recent complete business days; anomalies are stored and, in the harmful direction, open an
alert through the existing alerting — with the expected value, the observed one and the breakdown that
moved most. The documented face is `PredictiveAnalyticsService().detect_anomalies(metric_name, days=7)`.

Alerts: dedup key `anomaly:<metric>`, source `anomaly`; severity `critical` from 6 standard deviations,
else `warning`; the alert resolves itself when the newest complete day is normal again, and a resolved key
stays quiet for the alert cooldown (ANALYTICS_ALERT_COOLDOWN_MINUTES). Only complete days are judged: a
day in progress is never compared with whole days.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from analytics import clock
from analytics.errors import ValidationFailed
from analytics.intelligence.anomalies.detector import MAX_HISTORY_DAYS, DaySurprise, confirmed, surprises
from analytics.intelligence.anomalies.series import SERIES, SERIES_BY_METRIC, SeriesSpec, breakdown_values, daily_series
from analytics.metrics.alerting.raising import alert_clear, alert_raise
from analytics.metrics.periods import business_day
from analytics.models import DetectedAnomaly
from analytics.models.alerts import AlertSeverity

logger = logging.getLogger("analytics.anomalies")
CRITICAL_Z = 6.0
MAX_DAYS = 90
BREAKDOWN_WEEKS = 4


@dataclass(frozen=True)
class Anomaly:
    metric_name: str
    date: date
    expected_value: float
    actual_value: float
    z_score: float
    severity: str
    direction: str
    harmful: bool
    breakdown: dict[str, Any] | None


def _moved_most(spec: SeriesSpec, day: date, direction: str) -> dict[str, Any] | None:
    """The breakdown value that explains the day's move beyond its usual weight: its share of the change
    (against the same weekday of the last four weeks; a rate's change counted in excess numerator) minus
    its share of the usual total. A dimension with one value explains everything and tells nothing."""
    history = [day - timedelta(weeks=w) for w in range(1, BREAKDOWN_WEEKS + 1)]
    sign = 1.0 if direction == "up" else -1.0
    best: dict[str, Any] | None = None
    best_score = 0.0
    empty = (0.0, 0.0 if spec.kind == "rate" else 1.0)
    for breakdown in spec.breakdowns:
        values = breakdown_values(metric=spec.metric, breakdown=breakdown, days=[day, *history])
        moves = []
        for key, by_day in values.items():
            k, n = by_day.get(day, empty)
            past = [by_day.get(d, empty) for d in history]
            if spec.kind == "rate":
                past_k, past_n = sum(p[0] for p in past), sum(p[1] for p in past)
                rate = past_k / past_n if past_n else 0.0
                weight = past_n / len(history)
                moves.append((key, (k - n * rate) * sign, weight, 100 * rate, 100 * k / n if n else float("nan")))
            else:
                expected = sum(p[0] for p in past) / len(history)
                moves.append((key, (k - expected) * sign, abs(expected), expected, k))
        change = sum(max(m[1], 0.0) for m in moves)
        usual = sum(m[2] for m in moves)
        if change <= 0 or usual <= 0:
            continue
        for key, move, weight, expected, actual in moves:
            score = move / change - weight / usual
            if move > 0 and score > best_score:
                best_score = score
                best = {
                    "dimension": breakdown,
                    "value": key,
                    "expected": round(expected, 4),
                    "actual": round(actual, 4) if math.isfinite(actual) else None,
                    "share_of_change": round(move / change, 4),
                    "usual_share": round(weight / usual, 4),
                }
    return best


def anomalies_find(*, metric_name: str, days: int = 7, as_of: datetime | None = None) -> list[Anomaly]:
    """Anomalies of one watched series on its last `days` complete business days, oldest first."""
    spec = SERIES_BY_METRIC.get(metric_name)
    if spec is None:
        raise ValidationFailed(
            f"{metric_name!r} is not a watched series; watched: {', '.join(s.metric for s in SERIES)}",
            code="invalid_metric",
        )
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1…{MAX_DAYS}", code="invalid_days", details={"days": days})
    last = business_day(as_of or clock.now()) - timedelta(days=1)
    first = last - timedelta(days=days - 1 + MAX_HISTORY_DAYS)
    series = daily_series(metric=metric_name, first=first, last=last).since_first_data()
    judged = surprises(kind=spec.kind, values=series.values, weekdays=series.weekdays, denominators=series.denominators)
    recent = len(series.days) - days  # (the series may be shorter than `days`: then every day is recent)
    found = []
    for surprise in confirmed(judged, kind=spec.kind):
        if surprise.index < recent:
            continue
        found.append(_anomaly(spec, series.days[surprise.index], surprise))
    return found


def _anomaly(spec: SeriesSpec, day: date, surprise: DaySurprise) -> Anomaly:
    direction = "up" if surprise.z > 0 else "down"
    return Anomaly(
        metric_name=spec.metric,
        date=day,
        expected_value=round(surprise.expected, 4),
        actual_value=round(surprise.actual, 4),
        z_score=round(surprise.z, 3),
        severity="critical" if abs(surprise.z) >= CRITICAL_Z else "warning",
        direction=direction,
        harmful=direction == spec.harmful,
        breakdown=_moved_most(spec, day, direction),
    )


@dataclass(frozen=True)
class AnomalyRun:
    anomalies: int
    alerts_open: int


def anomalies_detect(*, as_of: datetime | None = None, days: int = 7) -> AnomalyRun:
    """The batch: judge every watched series' last `days` complete days, store what is anomalous, and keep
    each series' alert in line with its newest complete day."""
    now = as_of or clock.now()
    last = business_day(now) - timedelta(days=1)
    stored = 0
    alerts = 0
    for spec in SERIES:
        found = anomalies_find(metric_name=spec.metric, days=days, as_of=now)
        for anomaly in found:
            DetectedAnomaly.objects.update_or_create(
                metric_name=anomaly.metric_name,
                day=anomaly.date,
                defaults={
                    "expected_value": anomaly.expected_value,
                    "actual_value": anomaly.actual_value,
                    "z_score": anomaly.z_score,
                    "direction": anomaly.direction,
                    "severity": anomaly.severity,
                    "harmful": anomaly.harmful,
                    "breakdown": anomaly.breakdown or {},
                    "detected_at": now,
                },
            )
        stored += len(found)
        key = f"anomaly:{spec.metric}"
        newest = next((a for a in reversed(found) if a.date == last), None)
        if newest is not None and newest.harmful:
            alert_raise(
                source="anomaly",
                dedup_key=key,
                subject=spec.metric,
                severity=AlertSeverity.CRITICAL if newest.severity == "critical" else AlertSeverity.WARNING,
                title=f"{spec.metric} anomaly on {newest.date}: {newest.actual_value:g} against "
                f"{newest.expected_value:g} expected",
                message=_message(newest),
                now=now,
                value=newest.actual_value,
                threshold=newest.expected_value,
                period_start=newest.date,
                period_end=newest.date,
                dimensions={"z_score": newest.z_score, "breakdown": newest.breakdown or {}},
            )
            alerts += 1
        else:
            alert_clear(dedup_key=key, now=now)
    logger.info("anomalies.detected anomalies=%d alerts=%d", stored, alerts)
    return AnomalyRun(stored, alerts)


def _message(anomaly: Anomaly) -> str:
    moved = anomaly.breakdown
    where = (
        f" The {moved['dimension']} that moved most: {moved['value']} ({moved['actual']} against "
        f"{moved['expected']} expected; {moved['share_of_change']:.0%} of the change for "
        f"{moved['usual_share']:.0%} of the usual total)."
        if moved
        else ""
    )
    return (
        f"{anomaly.metric_name} on {anomaly.date} was {anomaly.actual_value:g}, {abs(anomaly.z_score):.1f} standard "
        f"deviations {'above' if anomaly.direction == 'up' else 'below'} the {anomaly.expected_value:g} expected "
        f"from its weekday pattern and trend.{where}"
    )


def anomalies_list(*, days: int = 30) -> list[dict[str, Any]]:
    """Stored anomalies of the last `days` business days, newest first."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1…{MAX_DAYS}", code="invalid_days", details={"days": days})
    since = business_day(clock.now()) - timedelta(days=days)
    return [
        {
            "metric_name": row.metric_name,
            "date": row.day,
            "expected_value": row.expected_value,
            "actual_value": row.actual_value,
            "z_score": row.z_score,
            "severity": row.severity,
            "direction": row.direction,
            "harmful": row.harmful,
            "breakdown": row.breakdown or None,
            "detected_at": row.detected_at,
        }
        for row in DetectedAnomaly.objects.filter(day__gte=since).order_by("-day", "metric_name")
    ]


def detect_anomalies(metric_name: str, days: int = 7) -> list[dict[str, Any]]:
    """The documented answer: [{"metric_name", "date", "expected_value", "actual_value", "z_score",
    "severity", "breakdown", …}] for one watched series."""
    return [asdict(a) for a in anomalies_find(metric_name=metric_name, days=days)]
