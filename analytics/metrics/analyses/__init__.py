"""Analyses on demand (PostHog-style query runners): trends, funnels, retention, lifecycle,
stickiness and session statistics.

Each analysis is a frozen, typed query (`…Query`), a typed result (`…Result`) and one function
`<analysis>_run(*, query)`. Reporting days are business days (analytics/metrics/periods.py), so
every bound is a local midnight converted to UTC with zoneinfo — DST-safe. Shared pieces live here:
the reporting window and its validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from analytics.errors import ValidationFailed
from analytics.metrics.periods import Period, business_today, business_zone, day_start

MAX_RANGE_DAYS = 366
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
INTERVALS = ("day", "week")


@dataclass(frozen=True)
class DateRange:
    """Business days `date_from` … `date_to` (inclusive); `start`/`end` are the UTC bounds [start, end)."""

    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return day_start(self.date_from, business_zone())

    @property
    def end(self) -> datetime:
        return day_start(self.date_to + timedelta(days=1), business_zone())

    @property
    def period(self) -> Period:
        """The range as a reporting period (type "range") that the metric registry can evaluate."""
        return Period(self.date_from, "range", self.date_to)

    def days(self) -> list[date]:
        return [self.date_from + timedelta(days=n) for n in range((self.date_to - self.date_from).days + 1)]


def date_range(
    *, date_from: date | None, date_to: date | None, default_days: int = 30, max_days: int = MAX_RANGE_DAYS
) -> DateRange:
    """A validated range; defaults to the last `default_days` business days including today."""
    for name, day in (("date_from", date_from), ("date_to", date_to)):
        check_day(name, day)
    today = business_today()
    date_to = date_to or today
    date_from = date_from or (date_to - timedelta(days=default_days - 1))
    if date_from > date_to:
        raise ValidationFailed(
            "date_from is after date_to",
            code="invalid_date_range",
            details={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
    if (date_to - date_from).days + 1 > max_days:
        raise ValidationFailed(
            f"a range spans at most {max_days} days", code="range_too_long", details={"max_days": max_days}
        )
    return DateRange(date_from, date_to)


def check_day(name: str, day: date | None) -> None:
    """Refuse days outside 2000…2100 (a far date would overflow the UTC bounds)."""
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationFailed(
            f"{name} must lie between {EARLIEST_DAY} and {LATEST_DAY}",
            code="invalid_date",
            details={"field": name},
        )


def last_days(days: int, *, today: date | None = None) -> DateRange:
    """The last `days` business days including today."""
    today = today or business_today()
    return DateRange(today - timedelta(days=days - 1), today)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def bucket_of(day: date, interval: str) -> date:
    """The first business day of the `interval` bucket containing `day` (weeks start on Monday)."""
    if interval == "day":
        return day
    if interval == "week":
        return week_start(day)
    raise ValidationFailed(f"unknown interval {interval!r}; use day or week", code="invalid_interval")


def buckets(rng: DateRange, interval: str) -> list[date]:
    """Every bucket start touching the range, in order."""
    seen: list[date] = []
    for day in rng.days():
        start = bucket_of(day, interval)
        if not seen or seen[-1] != start:
            seen.append(start)
    return seen


def median(values: list[float]) -> float | None:
    """The median (mean of the two middle values for an even count); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def percent(numerator: float, denominator: float) -> float | None:
    return None if not denominator else round(100.0 * numerator / denominator, 6)


def as_date(value: object) -> date:
    """A date from a backend's date/trunc result (some return datetimes)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
