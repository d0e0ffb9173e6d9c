"""The documented Python faces: `MetricsProcessor` and the KPI / KRI / KR calculators.

Thin: they parse arguments and call the calculation service or the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from analytics.errors import NotFound, ValidationFailed
from analytics.metrics.calculation import CalculationResult, metrics_calculate_day, metrics_recompute_dirty
from analytics.metrics.evaluation import Evaluator
from analytics.metrics.periods import Period, business_today
from analytics.metrics.registry import Kind, Values, metric_get, metric_list
from analytics.models import BusinessMetric


def parse_day(value: date | datetime | str | None) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"not a date (YYYY-MM-DD): {value!r}", code="invalid_date") from None


@dataclass(frozen=True)
class ThresholdBreach:
    """A metric's latest stored value past its warning (amber) or critical (red) threshold."""

    metric_name: str
    metric_type: str
    period_type: str
    period_start: date
    value: float
    status: str
    threshold: float | None


class MetricsProcessor:
    """`MetricsProcessor.process_daily_metrics(date=None)`, `MetricsProcessor.check_alert_thresholds()`."""

    @staticmethod
    def process_daily_metrics(date: date | datetime | str | None = None) -> CalculationResult:
        """Without a date: rebuild every dirty day and recompute what it affects. With one: rebuild that
        business day (even if nothing marked it) and recompute its day, week and month and dependents."""
        day = parse_day(date)
        if day is None:
            return metrics_recompute_dirty()
        return metrics_calculate_day(day=day)

    @staticmethod
    def check_alert_thresholds() -> list[ThresholdBreach]:
        """Metrics whose latest stored period with a value (per metric and period type, whole platform) is
        amber or red. The Alert model and its channels build on this (phase 2)."""
        breaches = []
        latest: dict[tuple[str, str], date] = {}
        for name, period_type, start in BusinessMetric.objects.filter(
            breakdown_key="", value__isnull=False
        ).values_list("metric_name", "period_type", "period_start"):
            key = (name, period_type)
            if key not in latest or start > latest[key]:
                latest[key] = start
        rows = BusinessMetric.objects.filter(breakdown_key="", is_alert_triggered=True).order_by(
            "metric_name", "period_type"
        )
        for row in rows:
            if latest.get((row.metric_name, row.period_type)) != row.period_start or row.value is None:
                continue
            threshold = row.critical_threshold if row.status == "red" else row.warning_threshold
            breaches.append(
                ThresholdBreach(
                    row.metric_name,
                    row.metric_type,
                    row.period_type,
                    row.period_start,
                    row.value,
                    row.status,
                    threshold,
                )
            )
        return breaches


class _Calculator:
    """Compute any registered metric of this kind for a period: `calc.daily_active_users(date=...)`,
    `calc.calculate_daily_active_users(...)` or `calc.calculate("daily_active_users", ...)`."""

    kind: Kind

    def metric_names(self) -> list[str]:
        return [d.name for d in metric_list() if d.kind is self.kind]

    def calculate(
        self,
        metric_name: str,
        date: date | datetime | str | None = None,
        period_type: str | None = None,
        breakdown: str | None = None,
    ) -> float | Values | None:
        definition = metric_get(metric_name)
        if definition.kind is not self.kind:
            raise NotFound(f"{metric_name!r} is a {definition.kind.value.upper()}, not a {self.kind.value.upper()}")
        period_type = period_type or definition.periods[0]
        if period_type not in definition.periods:
            raise ValidationFailed(f"{metric_name} has no {period_type!r} period", code="invalid_period")
        if breakdown is not None and breakdown not in definition.breakdowns:
            raise ValidationFailed(f"{metric_name} has no {breakdown!r} breakdown", code="invalid_breakdown")
        period = Period.containing(period_type, parse_day(date) or business_today())
        values = Evaluator().values(metric_name, period, breakdown)
        return values if breakdown else values.get("")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        metric_name = name.removeprefix("calculate_")
        if metric_name in self.metric_names():
            return lambda *args, **kwargs: self.calculate(metric_name, *args, **kwargs)
        raise AttributeError(name)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.metric_names()]


class KPICalculator(_Calculator):
    kind = Kind.KPI


class KRICalculator(_Calculator):
    kind = Kind.KRI


class KRCalculator(_Calculator):
    kind = Kind.KR
