"""What people did before a seat: their listing views and browsing sessions, read once per run.

A training run asks for the history of tens of thousands of seats at several instants (the evaluation split
and the instants that size the forecast intervals); reading each person's views and sessions once, as epoch
seconds sorted per person, lets every seat's history be a few binary searches. Prefix sums give a window's
viewed prices and weekend sessions without walking it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any

from django.db import connection
from django.db.models import F, FloatField, Func, Q
from django.db.models.fields.json import KT

from analytics.metrics.periods import business_zone
from analytics.models import Session, UserEvent

_IN_LIST = 1000  # users per IN list; above _BY_RANGE users the time range is read whole and filtered here
_BY_RANGE = 5000
DAY = 86_400.0


class EpochSeconds(Func):
    """A timestamp as seconds since 1970 (a float): cheaper to read than a datetime by orders of magnitude."""

    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra
        )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclass
class Views:
    """One person's listing views: times (sorted), categories, and prefix sums of the known prices."""

    times: list[float] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    price_sum: list[float] = field(default_factory=list)  # prefix: price_sum[i] = sum of the first i known prices
    price_count: list[int] = field(default_factory=list)

    def window(self, start: float, end: float) -> tuple[int, int]:
        return bisect_left(self.times, start), bisect_left(self.times, end)

    def seal(self) -> None:
        order = sorted(range(len(self.times)), key=self.times.__getitem__)
        self.times = [self.times[i] for i in order]
        self.categories = [self.categories[i] for i in order]
        self.prices = [self.prices[i] for i in order]
        known = [0.0 if math.isnan(p) else p for p in self.prices]
        self.price_sum = [0.0, *accumulate(known)]
        self.price_count = [0, *accumulate(0 if math.isnan(p) else 1 for p in self.prices)]


@dataclass
class Sessions:
    """One person's browsing-session starts (sorted) and a prefix count of those on a weekend."""

    starts: list[float] = field(default_factory=list)
    weekend: list[int] = field(default_factory=list)  # prefix: weekend[i] = weekend starts among the first i

    def seal(self) -> None:
        self.starts.sort()
        zone = business_zone()
        flags = (datetime.fromtimestamp(t, zone).weekday() >= 5 for t in self.starts)
        self.weekend = [0, *accumulate(int(flag) for flag in flags)]


@dataclass(frozen=True)
class Activity:
    """Views and sessions of `users` in `[start, end)` (epoch seconds)."""

    users: frozenset[str]
    start: float
    end: float
    views: dict[str, Views]
    sessions: dict[str, Sessions]

    def covers(self, users: Collection[str], *, start: float, end: float) -> bool:
        return self.start <= start and end <= self.end and all(u in self.users for u in users)


def _raw(queryset: Any, fields: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """The rows as the driver gives them: Django's per-value converters cost more than the read itself
    here (millions of floats and short strings)."""
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            yield from rows


def _rows(queryset: Any, users: list[str], wanted: set[str], fields: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    if len(users) > _BY_RANGE:
        for row in _raw(queryset, fields):
            if row[0] in wanted:
                yield row
        return
    for begin in range(0, len(users), _IN_LIST):
        yield from _raw(queryset.filter(user_id__in=users[begin : begin + _IN_LIST]), fields)


def activity_read(users: Collection[str], *, start: datetime, end: datetime) -> Activity:
    ordered = sorted(set(users))
    wanted = set(ordered)
    views: dict[str, Views] = {}
    viewed = (
        UserEvent.objects.filter(event_name="event_viewed", timestamp__gte=start, timestamp__lt=end)
        .exclude(user_id=None)
        .annotate(at=EpochSeconds(F("timestamp")), category=KT("properties__category"), price=KT("properties__price"))
        .order_by()
    )
    for user, at, category, price in _rows(viewed, ordered, wanted, ("user_id", "at", "category", "price")):
        mine = views.setdefault(str(user), Views())
        mine.times.append(float(at))
        mine.categories.append(category or "")
        mine.prices.append(_number(price))
    sessions: dict[str, Sessions] = {}
    browsing = (
        Session.objects.filter(started_at__gte=start, started_at__lt=end)
        .exclude(user_id=None)
        .filter(~Q(entry_screen=""))
        .annotate(at=EpochSeconds(F("started_at")))
        .order_by()
    )
    for user, at in _rows(browsing, ordered, wanted, ("user_id", "at")):
        sessions.setdefault(str(user), Sessions()).starts.append(float(at))
    for person_views in views.values():
        person_views.seal()
    for person_sessions in sessions.values():
        person_sessions.seal()
    return Activity(
        users=frozenset(wanted), start=start.timestamp(), end=end.timestamp(), views=views, sessions=sessions
    )
