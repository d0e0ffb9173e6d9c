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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, DateField, F, Q, QuerySet, Sum, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate, TruncWeek

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, as_date, bucket_of, buckets
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.trends import trends_clickhouse
from analytics.metrics.periods import business_zone, day_start
from analytics.metrics.rollups import day_runs, rollups_current_days
from analytics.models import DailyEventRollup, DailyUserEvent, UserEvent
from analytics.privacy.encryption import SENSITIVE_PROPERTIES

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
# Breakdowns the event rollup keeps (its column for each).
ROLLUP_BREAKDOWNS = {None: "", "platform": "platform", "city": "city", "listing_id": "listing_id"}
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
        encrypted = {key for name, key in SENSITIVE_PROPERTIES if name == self.event}
        asked = {(self.breakdown or "").removeprefix("properties."), *(key for key, _ in self.properties)}
        if encrypted & asked:
            # Stored encrypted (a fresh token per event): no grouping or equality can read it.
            raise ValidationFailed(
                f"properties {', '.join(sorted(encrypted))} of {self.event} are encrypted at rest and cannot be "
                "grouped or filtered on",
                code="encrypted_property",
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
    computed_from: str = "events"  # "rollup", "events" or "rollup+events" (which days came from where)


def parse_property_filters(raw: list[str]) -> tuple[tuple[str, str], ...]:
    """`key=value` strings (a query string's repeated `property=`) as filter pairs."""
    pairs = []
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not _PROPERTY.match(key.strip()):
            raise ValidationFailed(f"a property filter is key=value, not {item!r}", code="invalid_property_filter")
        pairs.append((key.strip(), value))
    return tuple(pairs)


def trends_run(*, query: TrendsQuery, use_rollups: bool = True) -> TrendsResult:
    """How did the volume (or the reach) of an event change over time, by segment?

    Days whose daily rollups are current (analytics/metrics/rollups.py, `rollups_current_days`) are read
    from the rollups when the rollups hold the answer — totals with no property filter, by nothing, platform,
    city or listing (`DailyEventRollup`), and unique users with no breakdown (`DailyUserEvent`); every other
    day, and every other query, is read from the tracked events. Both give the same numbers. With an
    analytics engine configured (`ANALYTICS_CLICKHOUSE_URL`), the engine answers instead, from its copy of
    the tracked events (analytics/metrics/clickhouse/trends.py)."""
    found = engine()
    if found is not None:
        return trends_clickhouse(query, *found)
    rng = query.range
    current = rollups_current_days(rng.date_from, rng.date_to) if use_rollups and _from_rollups(query) else set()
    from_events = [day for day in rng.days() if day not in current]
    points: dict[str | None, dict[date, int]] = defaultdict(dict)
    totals: dict[str | None, int] = defaultdict(int)
    if from_events:
        _add(points, _event_points(query, from_events))
    if current:
        _add(points, _rollup_points(query, current))
    if query.math == "unique_users":
        if current:  # no breakdown: one series; a week read from both sources counts each user once
            mixed = {bucket_of(day, query.interval) for day in current} & {
                bucket_of(day, query.interval) for day in from_events
            }
            for bucket in mixed:
                in_bucket = [day for day in rng.days() if bucket_of(day, query.interval) == bucket]
                points[None][bucket] = _users_of(query, in_bucket, current).count()
            totals[None] = _users_of(query, rng.days(), current).count()
        else:
            events = _events(query, from_events)
            if query.breakdown:
                for row in events.values("dim").annotate(n=Count("user_id", distinct=True)).order_by():
                    totals[_label(row["dim"])] += row["n"]
            else:
                totals[None] = events.aggregate(n=Count("user_id", distinct=True))["n"]
    else:
        totals.update({key: sum(by_day.values()) for key, by_day in points.items()})
    if not query.breakdown:
        points.setdefault(None, {})
        totals.setdefault(None, 0)
    starts = buckets(rng, query.interval)
    keys = sorted(points, key=lambda k: (-totals.get(k, 0), k or ""))
    series = [TrendSeries(k, totals.get(k, 0), [(s, points[k].get(s, 0)) for s in starts]) for k in keys[:MAX_SERIES]]
    source = "+".join(name for name, days in (("rollup", current), ("events", from_events)) if days)
    return TrendsResult(query.event, query.math, query.interval, series, computed_from=source)


def _from_rollups(query: TrendsQuery) -> bool:
    """Do the daily rollups hold this query's answer?"""
    if query.properties:
        return False
    if query.math == "total":
        return query.breakdown in ROLLUP_BREAKDOWNS
    return query.breakdown is None


def _add(points: dict[str | None, dict[date, int]], rows: Iterable[tuple[str | None, date, int]]) -> None:
    for label, bucket, n in rows:
        points[label][bucket] = points[label].get(bucket, 0) + n


def _between(field_name: str, runs: list[tuple[date, date]]) -> Q:
    """`field_name` within any of the runs of business days (a date, or a time compared with UTC bounds)."""
    zone = business_zone()
    q = Q(pk__in=[])
    for first, last in runs:
        if field_name == "day":
            q |= Q(day__gte=first, day__lte=last)
        else:
            q |= Q(
                **{
                    f"{field_name}__gte": day_start(first, zone),
                    f"{field_name}__lt": day_start(last + timedelta(days=1), zone),
                }
            )
    return q


def _events(query: TrendsQuery, days: list[date]) -> QuerySet[Any]:
    """The query's tracked events on `days`, with `bucket` (and `dim` with a breakdown) annotated."""
    events = UserEvent.objects.filter(_between("timestamp", day_runs(days)), event_name=query.event)
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
    if query.breakdown:
        if query.breakdown in COLUMNS:
            raw = Cast(F(COLUMNS[query.breakdown]), TextField())
        else:
            raw = Cast(KT(f"properties__{query.breakdown[11:]}"), TextField())
        # NULL and "" are one group ("unknown"), also for distinct users over the range.
        events = events.annotate(dim=Coalesce(NullIf(raw, Value("")), Value(UNKNOWN), output_field=TextField()))
    return events


def _event_points(query: TrendsQuery, days: list[date]) -> Iterable[tuple[str | None, date, int]]:
    group = ["bucket", "dim"] if query.breakdown else ["bucket"]
    measure = Count("user_id", distinct=True) if query.math == "unique_users" else Count("id")
    for row in _events(query, days).values(*group).annotate(n=measure).order_by():
        yield (_label(row["dim"]) if query.breakdown else None), as_date(row["bucket"]), row["n"]


def _rollup_points(query: TrendsQuery, days: Iterable[date]) -> Iterable[tuple[str | None, date, int]]:
    """Per bucket (and breakdown value) from the rollups; a day's rows are all its events or users."""
    within = _between("day", day_runs(days))
    rows: QuerySet[Any]
    if query.math == "total":
        rows = DailyEventRollup.objects.filter(within, event_name=query.event)
        measure: Any = Sum("events")
    else:
        rows = DailyUserEvent.objects.filter(within, event_name=query.event)
        # One row per (day, event, user): a day's users are its rows; a week's are counted once each.
        measure = Count("id") if query.interval == "day" else Count("user_id", distinct=True)
    rows = rows.annotate(bucket=F("day") if query.interval == "day" else TruncWeek("day", output_field=DateField()))
    group = ["bucket"]
    if query.breakdown:
        column = ROLLUP_BREAKDOWNS[query.breakdown]
        rows = rows.annotate(dim=Coalesce(NullIf(F(column), Value("")), Value(UNKNOWN), output_field=TextField()))
        group.append("dim")
    for row in rows.values(*group).annotate(n=measure).order_by():
        yield (_label(row["dim"]) if query.breakdown else None), as_date(row["bucket"]), int(row["n"] or 0)


def _users_of(query: TrendsQuery, days: list[date], current: set[date]) -> QuerySet[Any]:
    """The distinct identified users of the event on `days`: the rollup's for current days, the events'
    for the rest — one UNION, so a user seen in both counts once."""
    rolled = [day for day in days if day in current]
    raw = [day for day in days if day not in current]
    users = DailyUserEvent.objects.filter(_between("day", day_runs(rolled)), event_name=query.event).values_list(
        "user_id"
    )
    if not raw:
        return users.order_by().distinct()
    events = _events(query, raw).values_list("user_id")
    return users.order_by().union(events.order_by())  # UNION (not ALL): distinct rows


def _label(value: object) -> str:
    return UNKNOWN if value in (None, "") else str(value)
