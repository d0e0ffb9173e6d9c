"""The metric registry: every KPI, KRI and KR declared once.

A metric family module (activity.py, payments.py, …) calls `register(MetricDefinition(...))` for
each of its metrics; everything else — the calculation, the stored rows, the calculators, the
documentation in docs/metrics.md — reads the definitions from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from analytics.metrics.periods import Period

if TYPE_CHECKING:
    from analytics.metrics.evaluation import Evaluator


class Kind(StrEnum):
    KPI = "kpi"  # key performance indicator: how well the marketplace works
    KRI = "kri"  # key risk indicator: what could hurt it
    KR = "kr"  # key result: a goal with a target


class Unit(StrEnum):
    PERCENT = "percent"  # 0–100
    COUNT = "count"
    MINUTES = "minutes"
    CURRENCY = "currency"  # the platform currency (revenue_impact as tracked)
    MILLISECONDS = "milliseconds"
    SCORE = "score"  # a rating 1–5 or a sentiment −1…1


class Direction(StrEnum):
    UP = "up"  # higher is better
    DOWN = "down"  # lower is better


BREAKDOWNS = ("city", "category", "platform", "host")

# breakdown value -> metric value; "" is the whole platform (no breakdown). None = no data.
Values = dict[str, float | None]


@dataclass(frozen=True)
class MetricContext:
    """What a computation gets: the period, its UTC bounds, the instant of the calculation."""

    period: Period
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    now: datetime
    today: date  # the current business day
    zone: ZoneInfo
    evaluator: Evaluator

    def value_of(self, metric_name: str, period: Period, breakdown: str | None = None) -> Values:
        """Another metric's values (memoised for the whole calculation run)."""
        return self.evaluator.values(metric_name, period, breakdown)


Compute = Callable[[MetricContext, str | None], Values]


def same_day(day: date) -> Iterable[date]:
    return (day,)


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    kind: Kind
    category: str
    unit: Unit
    question: str  # the business question it answers
    definition: str  # the exact definition (numerator, denominator, events, no-data rule)
    direction: Direction
    compute: Compute
    periods: tuple[str, ...] = ("day", "week", "month")
    breakdowns: tuple[str, ...] = ()
    warning: float | None = None
    critical: float | None = None
    target: float | None = None
    # Which business days' periods change when the tracked events of `day` change (beyond `day`).
    affects: Callable[[date], Iterable[date]] = field(default=same_day)
    # Days after a period ends during which events still to come can change its value (a conversion
    # window): until then the value is provisional, and alerts judge the newest settled period instead.
    settles_after_days: int = 0
    # The count a rate stands on (payment outcomes, finished listings, a cohort's people, reviews…) and
    # the least of it worth judging: below `min_volume` the value is stored with status "sparse" —
    # shown, never amber or red, never an alert (docs/metrics.md, "Minimum volume").
    volume: Compute | None = None
    min_volume: int = 0
    volume_label: str = ""  # what the volume counts, for docs/metrics.md ("payment outcomes")

    def judged_status(self, value: float | None, volume: float | None) -> str:
        """`status(value)`, unless the value stands on fewer than `min_volume`: then "sparse"."""
        if value is not None and self.volume is not None and (volume or 0) < self.min_volume:
            return "sparse"
        return self.status(value)

    def status(self, value: float | None) -> str:
        """green / amber / red against the thresholds; no_data when there is no value."""
        if value is None:
            return "no_data"
        worse = (lambda v, t: v <= t) if self.direction is Direction.UP else (lambda v, t: v >= t)
        if self.critical is not None and worse(value, self.critical):
            return "red"
        if self.warning is not None and worse(value, self.warning):
            return "amber"
        return "green"


REGISTRY: dict[str, MetricDefinition] = {}


def register(definition: MetricDefinition) -> MetricDefinition:
    if definition.name in REGISTRY:
        raise ValueError(f"metric {definition.name!r} is registered twice")
    unknown = set(definition.breakdowns) - set(BREAKDOWNS)
    if unknown:
        raise ValueError(f"metric {definition.name!r}: unknown breakdowns {sorted(unknown)}")
    REGISTRY[definition.name] = definition
    return definition


def metric_get(name: str) -> MetricDefinition:
    from analytics.metrics import families  # noqa: F401  (registers every family)

    try:
        return REGISTRY[name]
    except KeyError:
        from analytics.errors import NotFound

        raise NotFound(f"unknown metric {name!r}") from None


def metric_list() -> list[MetricDefinition]:
    from analytics.metrics import families  # noqa: F401

    return list(REGISTRY.values())


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator × 100; None (no data) when the denominator is empty."""
    if numerator is None or not denominator:
        return None
    return 100.0 * float(numerator) / float(denominator)


def quotient(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator; None when the denominator is empty."""
    if numerator is None or not denominator:
        return None
    return float(numerator) / float(denominator)


def growth(current: float | None, previous: float | None) -> float | None:
    """(current − previous) / |previous| × 100; None when either is missing or previous is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return 100.0 * (current - previous) / abs(previous)
