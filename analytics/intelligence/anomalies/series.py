"""The daily series anomaly detection watches, read from the metric rollups — each the registry metric of the
same name for a business day (tests/unit/intelligence/anomalies holds them equal) — with the counts behind
the rates, and the breakdown values of one day.

| series | kind | harmful direction | numerator / denominator (rates) |
|---|---|---|---|
| daily_active_users | count | down | — |
| net_revenue | amount | down | — |
| payment_failure_rate | rate | up | payment_failed ÷ payment_completed + payment_failed |
| api_error_rate | rate | up | 5xx api_request ÷ api_request |
| view_to_request_rate | rate | down | viewers who requested ÷ viewers (same business day) |
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db.models import Count, Q, Sum

from analytics.metrics.revenue import REVENUE_EVENTS
from analytics.metrics.selectors import _with_breakdown
from analytics.models import DailyEventRollup, DailyUserActivity, DailyUserEvent


@dataclass(frozen=True)
class SeriesSpec:
    metric: str  # the registry metric
    kind: str  # count | amount | rate
    harmful: str  # up | down: the direction that is bad news
    breakdowns: tuple[str, ...]


SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("daily_active_users", "count", "down", ("platform", "city")),
    SeriesSpec("net_revenue", "amount", "down", ("city", "category", "host", "platform")),
    SeriesSpec("payment_failure_rate", "rate", "up", ("city", "platform", "host")),
    SeriesSpec("api_error_rate", "rate", "up", ("platform", "city")),
    SeriesSpec("view_to_request_rate", "rate", "down", ("platform", "city")),
)
SERIES_BY_METRIC = {spec.metric: spec for spec in SERIES}


@dataclass(frozen=True)
class DailySeries:
    metric: str
    days: list[date]
    values: np.ndarray  # counts and amounts; numerators of rates
    denominators: np.ndarray | None = None  # rates only

    def since_first_data(self) -> DailySeries:
        """The series from its first day with data (the days before the platform had any are not history)."""
        present = self.denominators if self.denominators is not None else self.values
        nonzero = np.flatnonzero(present)
        start = int(nonzero[0]) if len(nonzero) else len(self.days)
        return DailySeries(
            self.metric,
            self.days[start:],
            self.values[start:],
            None if self.denominators is None else self.denominators[start:],
        )

    @property
    def weekdays(self) -> np.ndarray:
        return np.array([d.weekday() for d in self.days])

    def value(self, index: int) -> float:
        if self.denominators is None:
            return float(self.values[index])
        n = float(self.denominators[index])
        return 100.0 * float(self.values[index]) / n if n else float("nan")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _viewers(days: Q) -> list[tuple[date, str, bool]]:
    """(day, user, requested that day) of every identified user who viewed a listing on one of `days`."""
    per_user = (
        DailyUserEvent.objects.filter(days, event_name__in=("event_viewed", "event_requested"))
        .values("day", "user_id")
        .annotate(
            viewed=Count("id", filter=Q(event_name="event_viewed")),
            asked=Count("id", filter=Q(event_name="event_requested")),
        )
        .order_by()
    )
    return [(row["day"], row["user_id"], bool(row["asked"])) for row in per_user if row["viewed"]]


def _view_to_request_breakdown(breakdown: str, days: list[date]) -> dict[str, dict[date, tuple[float, float]]]:
    """Viewers and requesters per value of `breakdown` (platform or city): a viewer counts under every value
    they were active with that day, as active users do in the daily_active_users breakdown."""
    values: dict[tuple[date, str], set[str]] = defaultdict(set)
    for row in DailyUserActivity.objects.filter(day__in=days).values("day", "user_id", breakdown).order_by():
        values[row["day"], row["user_id"]].add(str(row[breakdown] or "unknown"))
    cells: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for day, user, asked in _viewers(Q(day__in=days)):
        for value in values.get((day, user)) or {"unknown"}:
            cells[value][day][0] += asked
            cells[value][day][1] += 1
    return {value: {day: (k, n) for day, (k, n) in by_day.items()} for value, by_day in cells.items()}


def _rate_counts(first: date, last: date, metric: str) -> dict[date, tuple[float, float]]:
    if metric == "payment_failure_rate":
        rows = (
            DailyEventRollup.objects.filter(
                day__gte=first, day__lte=last, event_name__in=("payment_completed", "payment_failed")
            )
            .values("day", "event_name")
            .annotate(n=Sum("events"))
            .order_by()
        )
        counts: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for row in rows:
            counts[row["day"]][1] += float(row["n"])
            if row["event_name"] == "payment_failed":
                counts[row["day"]][0] += float(row["n"])
        return {day: (k, n) for day, (k, n) in counts.items()}
    if metric == "api_error_rate":
        rows = (
            DailyEventRollup.objects.filter(day__gte=first, day__lte=last, event_name="api_request")
            .values("day")
            .annotate(k=Sum("server_errors"), n=Sum("events"))
            .order_by()
        )
        return {row["day"]: (float(row["k"]), float(row["n"])) for row in rows}
    if metric == "view_to_request_rate":
        found: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for day, _user, asked in _viewers(Q(day__gte=first, day__lte=last)):
            found[day][1] += 1
            found[day][0] += asked
        return {day: (k, n) for day, (k, n) in found.items()}
    raise ValueError(f"{metric} is not a rate series")


def daily_series(*, metric: str, first: date, last: date) -> DailySeries:
    """The series of `metric` for every business day from `first` to `last` (0 / no data on empty days)."""
    spec = SERIES_BY_METRIC[metric]
    days = _days(first, last)
    if spec.kind == "rate":
        counts = _rate_counts(first, last, metric)
        return DailySeries(
            metric,
            days,
            np.array([counts.get(d, (0.0, 0.0))[0] for d in days]),
            np.array([counts.get(d, (0.0, 0.0))[1] for d in days]),
        )
    if metric == "daily_active_users":
        rows = (
            DailyUserActivity.objects.filter(day__gte=first, day__lte=last)
            .values("day")
            .annotate(n=Count("user_id", distinct=True))
            .order_by()
        )
        totals = {row["day"]: float(row["n"]) for row in rows}
    else:
        revenue = (
            DailyEventRollup.objects.filter(day__gte=first, day__lte=last, event_name__in=REVENUE_EVENTS)
            .values("day")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        totals = {row["day"]: float(row["total"]) for row in revenue}
    return DailySeries(metric, days, np.array([totals.get(d, 0.0) for d in days]))


def breakdown_values(*, metric: str, breakdown: str, days: list[date]) -> dict[str, dict[date, tuple[float, float]]]:
    """{breakdown value: {day: (value or numerator, denominator or 1)}} of `metric` on `days`."""
    first, last = min(days), max(days)
    found: dict[str, dict[date, tuple[float, float]]] = defaultdict(dict)
    if metric == "daily_active_users":
        rows = (
            DailyUserActivity.objects.filter(day__in=days)
            .values("day", breakdown)
            .annotate(n=Count("user_id", distinct=True))
            .order_by()
        )
        for row in rows:
            found[str(row[breakdown] or "unknown")][row["day"]] = (float(row["n"]), 1.0)
        return found
    names: tuple[str, ...]
    if metric == "net_revenue":
        names = REVENUE_EVENTS
    elif metric == "payment_failure_rate":
        names = ("payment_completed", "payment_failed")
    elif metric == "api_error_rate":
        names = ("api_request",)
    else:
        return _view_to_request_breakdown(breakdown, days)
    queryset, dim = _with_breakdown(
        DailyEventRollup.objects.filter(day__in=days, day__gte=first, day__lte=last, event_name__in=names), breakdown
    )
    rows = (
        queryset.values("day", "event_name", dim)  # type: ignore[arg-type]
        .annotate(n=Sum("events"), amount=Sum("amount"), errors=Sum("server_errors"))
        .order_by()
    )
    sums: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for row in rows:
        cell = sums[str(row[dim] or "unknown")][row["day"]]
        if metric == "net_revenue":
            cell[0] += float(row["amount"] or 0)
            cell[1] = 1.0
        elif metric == "payment_failure_rate":
            cell[1] += float(row["n"])
            if row["event_name"] == "payment_failed":
                cell[0] += float(row["n"])
        else:
            cell[0] += float(row["errors"] or 0)
            cell[1] += float(row["n"])
    return {key: {day: (k, n) for day, (k, n) in by_day.items()} for key, by_day in sums.items()}
