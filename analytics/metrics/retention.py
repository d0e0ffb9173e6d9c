"""Retention: classic ("on day n") D1 / D7 / D30 of first-active-day cohorts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from analytics.metrics.registry import (
    Direction,
    Kind,
    MetricContext,
    MetricDefinition,
    Unit,
    Values,
    ratio,
    register,
)
from analytics.metrics.selectors import OVERALL
from analytics.models import DailyUserActivity, UserFirstActivity

RETENTION_DAYS = (1, 7, 30)
_THRESHOLDS = {1: (20.0, 10.0), 7: (10.0, 5.0), 30: (5.0, 2.0)}


# A day's cohort of fewer people than this cannot tell 2% from 5% retention.
MIN_COHORT = 50


def _cohorts(ctx: MetricContext, n: int, *, count_retained: bool = True) -> tuple[int, int]:
    """(retained on day n, cohort size) over the period's mature first-active days."""
    cohort_size = retained = 0
    for day in ctx.period.days():
        if day + timedelta(days=n) >= ctx.today:  # day n not complete yet: not mature
            break
        cohort = UserFirstActivity.objects.filter(first_day=day).values("user_id")
        size = cohort.count()
        if not size:
            continue
        cohort_size += size
        if count_retained:
            retained += (
                DailyUserActivity.objects.filter(day=day + timedelta(days=n), user_id__in=cohort)
                .values("user_id")
                .distinct()
                .count()
            )
    return retained, cohort_size


def _retention(n: int) -> Callable[[MetricContext, str | None], Values]:
    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        retained, size = _cohorts(ctx, n)
        return {OVERALL: ratio(retained, size)}

    return compute


def _cohort_size(n: int) -> Callable[[MetricContext, str | None], Values]:
    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        return {OVERALL: float(_cohorts(ctx, n, count_retained=False)[1])}

    return compute


def _affects(n: int) -> Callable[[date], Iterable[date]]:
    return lambda day: (day, day - timedelta(days=n))


for _n in RETENTION_DAYS:
    register(
        MetricDefinition(
            name=f"retention_rate_{_n}d",
            kind=Kind.KPI,
            category="retention",
            unit=Unit.PERCENT,
            question=f"Of the people who first used Loopin in the period, how many came back on day {_n}?",
            definition=(
                f"Cohort: identified users whose first active business day (first day with a user-initiated "
                f"event) falls in the period. Retained: cohort members active on exactly their first day + {_n}. "
                f"Value = retained ÷ cohort × 100, over the cohort days whose day {_n} is complete (before the "
                f"current business day). No data when no cohort day is mature or the mature cohorts are empty."
            ),
            direction=Direction.UP,
            compute=_retention(_n),
            volume=_cohort_size(_n),
            min_volume=MIN_COHORT,
            volume_label="people in the mature cohorts",
            warning=_THRESHOLDS[_n][0],
            critical=_THRESHOLDS[_n][1],
            affects=_affects(_n),
        )
    )
