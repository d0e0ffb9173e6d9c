"""Metric rows for alert tests, stored as the calculation stores them."""

from __future__ import annotations

from datetime import date

from analytics import clock
from analytics.metrics import metric_get
from analytics.metrics.periods import Period, business_today
from analytics.models import BusinessMetric


def metric(name: str, day: str, value: float | None, *, period_type: str = "day", breakdown: str = "") -> None:
    """Store a metric row as the calculation does: status and thresholds from the registry."""
    definition = metric_get(name)
    period = Period.containing(period_type, date.fromisoformat(day))
    # a period in progress is stored as partial, never judged (analytics/metrics/calculation.py)
    status = "partial" if period.end >= business_today() and value is not None else definition.status(value)
    dimension, _, dimension_value = breakdown.partition("=")
    BusinessMetric.objects.update_or_create(
        metric_name=name,
        period_type=period_type,
        period_start=period.start,
        breakdown_key=breakdown,
        defaults={
            "metric_type": definition.kind.value,
            "category": definition.category,
            "unit": definition.unit.value,
            "value": value,
            "warning_threshold": definition.warning,
            "critical_threshold": definition.critical,
            "target_value": definition.target,
            "status": status,
            "is_alert_triggered": status in ("amber", "red"),
            "period_end": period.end,
            "dimensions": {dimension: dimension_value} if breakdown else {},
            "computed_at": clock.now(),
        },
    )
