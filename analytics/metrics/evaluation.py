"""Evaluates registered metrics for periods, memoising values within one calculation run."""

from __future__ import annotations

from datetime import datetime

from analytics import clock
from analytics.metrics.periods import Period, business_day, business_zone
from analytics.metrics.registry import MetricContext, Values, metric_get

ROUND_DIGITS = 6  # stored values are rounded so SQLite and PostgreSQL float sums agree


class Evaluator:
    """One calculation run at one instant `now`."""

    def __init__(self, *, now: datetime | None = None) -> None:
        self.now = now or clock.now()
        self.zone = business_zone()
        self.today = business_day(self.now, self.zone)
        self._memo: dict[tuple[str, Period, str | None], Values] = {}

    def context(self, period: Period) -> MetricContext:
        start, end = period.bounds(self.zone)
        return MetricContext(
            period=period,
            start=start,
            end=end,
            now=self.now,
            today=self.today,
            zone=self.zone,
            evaluator=self,
        )

    def values(self, metric_name: str, period: Period, breakdown: str | None = None) -> Values:
        key = (metric_name, period, breakdown)
        if key not in self._memo:
            definition = metric_get(metric_name)
            raw = definition.compute(self.context(period), breakdown)
            self._memo[key] = {k: (None if v is None else round(float(v), ROUND_DIGITS)) for k, v in raw.items()}
        return self._memo[key]

    def volumes(self, metric_name: str, period: Period, breakdown: str | None = None) -> Values:
        """What each value of the metric stands on (its definition's `volume`); {} when it has none."""
        definition = metric_get(metric_name)
        if definition.volume is None:
            return {}
        return definition.volume(self.context(period), breakdown)

    def value(self, metric_name: str, period: Period) -> float | None:
        return self.values(metric_name, period).get("")
