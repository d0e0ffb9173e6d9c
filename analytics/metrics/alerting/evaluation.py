"""After each metrics run: open, refresh and auto-resolve alerts from the stored `BusinessMetric` rows.

What is evaluated: for each registered metric, its finest period type (day for most; week for
stickiness, churn and host drop-out; month for the growth KRs), and of that type the newest *complete*
period that has a value — yesterday, last week, last month: a period in progress is never judged (its
rows are stored with status `partial`; two days of December are not a 90% drop from November). A metric
that settles late (`settles_after_days`: the conversion rate, whose journeys have 14 days to finish)
is judged on its newest *settled* period: yesterday's conversion is low only because its viewers have
not had the time to attend yet, and alerting on it would cry wolf every day. Whole
platform only (`breakdown_key == ""`), unless ANALYTICS_ALERT_BREAKDOWNS is on, when every breakdown
row is evaluated under its own key as well.

The status stored with the row decides (docs/metrics.md, "Status"): red → a `critical` alert, amber →
a `warning` alert, green → the key's active alert resolves itself (resolved_by "system"); a period
with no data changes nothing. The de-duplication key is `metric:<name>:<period type>:<breakdown>`:
one active (open or acknowledged) alert per key; a breach of an active key refreshes that alert
(value, threshold, period, severity — a rise to critical notifies again as `escalated`). After a key's
alert is resolved — automatically or by a person — the key opens nothing for
ANALYTICS_ALERT_COOLDOWN_MINUTES.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from analytics import clock
from analytics.metrics.alerting.lifecycle import SYSTEM_ACTOR, alert_close, notifications_owe
from analytics.metrics.catalogue import settled
from analytics.metrics.periods import PERIOD_TYPES, business_today
from analytics.metrics.registry import Direction, MetricDefinition, metric_list
from analytics.models import Alert, BusinessMetric
from analytics.models.alerts import ACTIVE_STATES, AlertSeverity, AlertSource, AlertState, NotificationKind

logger = logging.getLogger(__name__)

SEVERITY_OF_STATUS = {"red": AlertSeverity.CRITICAL, "amber": AlertSeverity.WARNING}
KEY_MAX_LENGTH = 255  # Alert.dedup_key
_RANK = {AlertSeverity.WARNING.value: 1, AlertSeverity.CRITICAL.value: 2}


@dataclass(frozen=True)
class EvaluationResult:
    evaluated: int = 0  # newest metric rows looked at
    opened: int = 0
    refreshed: int = 0  # still past a threshold: the active alert was brought up to date
    escalated: int = 0  # of the refreshed, those that went from warning to critical
    resolved: int = 0  # auto-resolved: the newest period is green again
    suppressed: int = 0  # past a threshold but the key is cooling down after a resolve
    notifications: int = 0  # channel messages now owed


def dedup_key(row: BusinessMetric) -> str:
    key = f"{AlertSource.METRIC.value}:{row.metric_name}:{row.period_type}:{row.breakdown_key}"
    if len(key) <= KEY_MAX_LENGTH:
        return key
    return f"{key[: KEY_MAX_LENGTH - 17]}#{hashlib.sha256(key.encode()).hexdigest()[:16]}"  # stays unique


def _finest_periods() -> dict[str, tuple[str, MetricDefinition]]:
    return {d.name: (min(d.periods, key=PERIOD_TYPES.index), d) for d in metric_list()}


def newest_rows(*, now: datetime | None = None) -> list[BusinessMetric]:
    """Each metric's newest complete, settled period with a value, of its finest period type, per evaluated
    breakdown."""
    finest = _finest_periods()
    today = business_today(now)
    queryset = BusinessMetric.objects.filter(settled(today), period_end__lt=today, value__isnull=False)
    if not settings.ANALYTICS_ALERT_BREAKDOWNS:
        queryset = queryset.filter(breakdown_key="")
    wanted = {
        (group["metric_name"], group["period_type"], group["breakdown_key"], group["latest"])
        for group in queryset.values("metric_name", "period_type", "breakdown_key").annotate(latest=Max("period_start"))
        if group["metric_name"] in finest and finest[group["metric_name"]][0] == group["period_type"]
    }
    if not wanted:
        return []
    candidates = queryset.filter(
        metric_name__in={w[0] for w in wanted},
        period_type__in={w[1] for w in wanted},
        period_start__in={w[3] for w in wanted},
    )
    rows = [r for r in candidates if (r.metric_name, r.period_type, r.breakdown_key, r.period_start) in wanted]
    return sorted(rows, key=lambda r: (r.metric_name, r.breakdown_key))


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}%" if unit == "percent" else f"{text} {unit}"


def _describe(
    row: BusinessMetric, severity: str, threshold: float | None, definition: MetricDefinition
) -> tuple[str, str]:
    where = f" ({row.breakdown_key})" if row.breakdown_key else ""
    title = (
        f"{row.metric_name}{where} {severity}: {_number(row.value, row.unit)} "
        f"(threshold {_number(threshold, row.unit)})"
    )[:200]
    better = "higher" if definition.direction is Direction.UP else "lower"
    message = (
        f"{definition.question} {row.metric_name} is {_number(row.value, row.unit)} "
        f"for the {row.period_type} starting {row.period_start.isoformat()}{where}, "
        f"past its {severity} threshold {_number(threshold, row.unit)} ({better} is better)."
    )
    return title, message


def _apply(
    alert: Alert,
    row: BusinessMetric,
    severity: str,
    threshold: float | None,
    definition: MetricDefinition,
    now: datetime,
) -> None:
    alert.severity = severity
    alert.value = row.value
    alert.threshold = threshold
    alert.unit = row.unit
    alert.metric_type = row.metric_type
    alert.period_type = row.period_type
    alert.period_start = row.period_start
    alert.period_end = row.period_end
    alert.breakdown_key = row.breakdown_key
    alert.dimensions = row.dimensions
    alert.last_evaluated_at = now
    alert.title, alert.message = _describe(row, severity, threshold, definition)


def alerts_evaluate(*, now: datetime | None = None) -> EvaluationResult:
    """Bring alerts in line with the newest metric rows. Idempotent: a second run changes nothing."""
    now = now or clock.now()
    finest = _finest_periods()
    rows = newest_rows(now=now)
    keys = [dedup_key(row) for row in rows]
    active = {a.dedup_key: a for a in Alert.objects.filter(dedup_key__in=keys, state__in=ACTIVE_STATES)}
    cooldown = timedelta(minutes=settings.ANALYTICS_ALERT_COOLDOWN_MINUTES)
    cooling = set(
        Alert.objects.filter(dedup_key__in=keys, state=AlertState.RESOLVED, resolved_at__gt=now - cooldown).values_list(
            "dedup_key", flat=True
        )
    )
    opened = refreshed = escalated = resolved = suppressed = notifications = 0
    for row, key in zip(rows, keys, strict=True):
        definition = finest[row.metric_name][1]
        severity = SEVERITY_OF_STATUS.get(row.status)
        current = active.get(key)
        with transaction.atomic():
            if current is not None:
                current = Alert.objects.select_for_update().filter(id=current.id, state__in=ACTIVE_STATES).first()
            if severity is None:
                if current is not None and row.status == "green":
                    notifications += alert_close(alert=current, by=SYSTEM_ACTOR, now=now)
                    resolved += 1
                continue
            threshold = row.critical_threshold if severity is AlertSeverity.CRITICAL else row.warning_threshold
            if current is not None:
                rose = _RANK[severity.value] > _RANK[current.severity]
                _apply(current, row, severity.value, threshold, definition, now)
                current.save()
                refreshed += 1
                if rose:
                    notifications += notifications_owe(alert=current, kind=NotificationKind.ESCALATED, now=now)
                    escalated += 1
                continue
            if key in cooling:
                suppressed += 1
                continue
            alert = Alert(
                source=AlertSource.METRIC,
                metric_name=row.metric_name,
                dedup_key=key,
                state=AlertState.OPEN,
                opened_at=now,
            )
            _apply(alert, row, severity.value, threshold, definition, now)
            try:
                with transaction.atomic():
                    alert.save()
            except IntegrityError:  # a concurrent evaluation opened this key first
                continue
            notifications += notifications_owe(alert=alert, kind=NotificationKind.OPENED, now=now)
            opened += 1
    result = EvaluationResult(len(rows), opened, refreshed, escalated, resolved, suppressed, notifications)
    logger.info(
        "alerts.evaluated rows=%d opened=%d refreshed=%d escalated=%d resolved=%d suppressed=%d",
        result.evaluated,
        opened,
        refreshed,
        escalated,
        resolved,
        suppressed,
    )
    return result
