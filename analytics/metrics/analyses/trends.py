"""Trends: how often an event happens (or how many people do it) per business day or week.

`math="total"` counts tracked events (identified or anonymous); `math="unique_users"` counts
distinct identified users. Buckets are business days / Monday-Sunday weeks in the business time zone
(the database truncates in that zone, DST-safe). Breakdown by a column (`platform`, `city`, `country`,
`browser`, `os`, `event_type`, `listing_id`, `host_id`) or a property (`properties.<key>`); property
filters are equalities on `properties.<key>` (all must hold). Missing values group under "unknown".
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, DateField, F, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate, TruncWeek

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, as_date, buckets
from analytics.metrics.periods import business_zone
from analytics.models import UserEvent

MATHS = ("total", "unique_users")
COLUMNS = {
    "platform": "device_type",
    "city": "city",
    "country": "country",
    "browser": "browser",
    "os": "os",
    "event_type": "event_type",
    "listing_id": "listing_id",
    "host_id": "host_id",
}
MAX_FILTERS = 10
MAX_SERIES = 50  # breakdown values beyond the 50 largest fold into "other"
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class TrendsQuery:
    event: str
    range: DateRange
    interval: str = "day"
    math: str = "total"
    breakdown: str | None = None
    properties: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (key, value) equalities

    def __post_init__(self) -> None:
        if not self.event or len(self.event) > 200:
            raise ValidationFailed("event is a tracked event name", code="invalid_event_name")
        if self.interval not in ("day", "week"):
            raise ValidationFailed("interval is day or week", code="invalid_interval")
        if self.math not in MATHS:
            raise ValidationFailed("math is total or unique_users", code="invalid_math")
        if (
            self.breakdown is not None
            and self.breakdown not in COLUMNS
            and not (self.breakdown.startswith("properties.") and _PROPERTY.match(self.breakdown[11:]))
        ):
            raise ValidationFailed(
                f"breakdown is one of {', '.join(COLUMNS)} or properties.<key>", code="invalid_breakdown"
            )
        if len(self.properties) > MAX_FILTERS:
            raise ValidationFailed(f"at most {MAX_FILTERS} property filters", code="too_many_filters")
        for key, _ in self.properties:
            if not _PROPERTY.match(key):
                raise ValidationFailed(f"invalid property name {key!r}", code="invalid_property_filter")


@dataclass(frozen=True)
class TrendSeries:
    breakdown_value: str | None
    total: int  # events over the range; for unique_users, distinct users over the whole range
    points: list[tuple[date, int]]


@dataclass(frozen=True)
class TrendsResult:
    event: str
    math: str
    interval: str
    series: list[TrendSeries]


def parse_property_filters(raw: list[str]) -> tuple[tuple[str, str], ...]:
    """`key=value` strings (a query string's repeated `property=`) as filter pairs."""
    pairs = []
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not _PROPERTY.match(key.strip()):
            raise ValidationFailed(f"a property filter is key=value, not {item!r}", code="invalid_property_filter")
        pairs.append((key.strip(), value))
    return tuple(pairs)


def trends_run(*, query: TrendsQuery) -> TrendsResult:
    """How did the volume (or the reach) of an event change over time, by segment?"""
    rng = query.range
    events = UserEvent.objects.filter(event_name=query.event, timestamp__gte=rng.start, timestamp__lt=rng.end)
    for key, value in query.properties:
        # Compared as text, so "2" matches the number 2 and "true" the boolean (the same on both backends).
        events = events.annotate(**{f"_p_{key}": Cast(KT(f"properties__{key}"), TextField())}).filter(
            **{f"_p_{key}": value}
        )
    if query.math == "unique_users":
        events = events.filter(user_id__isnull=False)
    zone = business_zone()
    bucket = (
        TruncDate("timestamp", tzinfo=zone)
        if query.interval == "day"
        else TruncWeek("timestamp", tzinfo=zone, output_field=DateField())
    )
    events = events.annotate(bucket=bucket)
    group = ["bucket"]
    if query.breakdown:
        if query.breakdown in COLUMNS:
            raw = Cast(F(COLUMNS[query.breakdown]), TextField())
        else:
            raw = Cast(KT(f"properties__{query.breakdown[11:]}"), TextField())
        # NULL and "" are one group ("unknown"), also for distinct users over the range.
        events = events.annotate(dim=Coalesce(NullIf(raw, Value("")), Value(UNKNOWN), output_field=TextField()))
        group.append("dim")
    measure = Count("user_id", distinct=True) if query.math == "unique_users" else Count("id")
    points: dict[str | None, dict[date, int]] = defaultdict(dict)
    for row in events.values(*group).annotate(n=measure).order_by():
        label = _label(row.get("dim")) if query.breakdown else None
        day = as_date(row["bucket"])
        points[label][day] = points[label].get(day, 0) + row["n"]
    totals: dict[str | None, int]
    if query.math == "unique_users":
        totals = defaultdict(int)
        if query.breakdown:
            for row in events.values("dim").annotate(n=measure).order_by():
                totals[_label(row["dim"])] += row["n"]
        else:
            totals[None] = events.aggregate(n=measure)["n"]
    else:
        totals = {key: sum(by_day.values()) for key, by_day in points.items()}
    if not query.breakdown:
        points.setdefault(None, {})
        totals.setdefault(None, 0)
    starts = buckets(rng, query.interval)
    keys = sorted(points, key=lambda k: (-totals.get(k, 0), k or ""))
    series = [TrendSeries(k, totals.get(k, 0), [(s, points[k].get(s, 0)) for s in starts]) for k in keys[:MAX_SERIES]]
    return TrendsResult(query.event, query.math, query.interval, series)


def _label(value: object) -> str:
    return UNKNOWN if value in (None, "") else str(value)
