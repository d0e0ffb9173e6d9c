"""Retention tables: cohorts by first active business day (or week), classic "on day n" retention.

Reads the rollups only: `UserFirstActivity` (each identified user's first active business day, the
cohort) and `DailyUserActivity` (who was active on which business day), joined in SQL on the user.
The same definitions as the `retention_rate_{1,7,30}d` metrics (docs/metrics.md): a member counts as
retained at interval n when active on exactly first day + n (week cohorts: any day of cohort week + n);
an interval is only reported once it is complete (it ended before the current business day) — an
incomplete cell is null, not 0%.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, DateField, F, Q
from django.db.models.functions import TruncWeek

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, as_date, percent, week_start
from analytics.metrics.analysis_session import analysis_session
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.cohorts import retention_clickhouse
from analytics.metrics.periods import business_today
from analytics.models import DailyUserActivity, UserFirstActivity
from analytics.privacy.retention import events_ever_purged

CLASSIC_DAYS = (1, 7, 30)
MAX_INTERVALS = 92


@dataclass(frozen=True)
class RetentionQuery:
    range: DateRange  # cohorts whose first active day (week) starts in the range
    period: str = "day"  # cohort and interval size: day or week
    intervals: int = 31  # report intervals 0 … intervals-1

    def __post_init__(self) -> None:
        if self.period not in ("day", "week"):
            raise ValidationFailed("period is day or week", code="invalid_period")
        if not 1 <= self.intervals <= MAX_INTERVALS:
            raise ValidationFailed(f"intervals is 1…{MAX_INTERVALS}", code="invalid_intervals")


@dataclass(frozen=True)
class RetentionCohort:
    cohort_start: date
    size: int
    retained: list[int | None]  # per interval; None: the interval is not complete yet
    rates: list[float | None]  # percent of the cohort


@dataclass(frozen=True)
class RetentionResult:
    period: str
    cohorts: list[RetentionCohort]
    # Classic D1/D7/D30 over the range's day cohorts whose day n is complete (the metrics' definition).
    classic: dict[str, float | None]
    computed_from: str = "rollup"  # "rollup" (the SQL engine) or "clickhouse" (the analytics engine)


def _step(period: str) -> int:
    return 1 if period == "day" else 7


def _daily_pairs(first_from: date, first_to: date, last_day: date) -> dict[tuple[date, date], int]:
    """{(first active day, active day): distinct users} for cohorts first_from … first_to, active ≤ last_day."""
    rows = (
        DailyUserActivity.objects.filter(
            day__gte=first_from,
            day__lte=last_day,
            first_activity__first_day__gte=first_from,
            first_activity__first_day__lte=first_to,
        )
        .values("day", first=F("first_activity__first_day"))
        .annotate(n=Count("user_id", distinct=True))
        .order_by()
    )
    return {(as_date(row["first"]), as_date(row["day"])): int(row["n"]) for row in rows}


def _classic_pairs(first_from: date, first_to: date) -> dict[tuple[date, date], int]:
    """Only the (first day, first day + n) pairs of the classic rates, n in CLASSIC_DAYS — one scan."""
    on_day_n = Q()
    for n in CLASSIC_DAYS:
        on_day_n |= Q(day=F("first_activity__first_day") + timedelta(days=n))
    rows = (
        DailyUserActivity.objects.filter(
            on_day_n,
            day__gte=first_from,
            day__lte=first_to + timedelta(days=max(CLASSIC_DAYS)),
            first_activity__first_day__gte=first_from,
            first_activity__first_day__lte=first_to,
        )
        .values("day", first=F("first_activity__first_day"))
        .annotate(k=Count("user_id", distinct=True))
        .order_by()
    )
    return {(as_date(row["first"]), as_date(row["day"])): int(row["k"]) for row in rows}


def _cohort_sizes(first_from: date, first_to: date) -> dict[date, int]:
    rows = (
        UserFirstActivity.objects.filter(first_day__gte=first_from, first_day__lte=first_to)
        .values("first_day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {as_date(row["first_day"]): int(row["n"]) for row in rows}


def retention_run(*, query: RetentionQuery) -> RetentionResult:
    """Of the people who first used Loopin on a day (week), what share came back n days (weeks) later?

    Day cohorts and the classic rates share one grouped read of (first day, active day) pairs; week
    cohorts need their own (a user active on several days of a week counts once). With an analytics engine
    configured, the engine answers from its copy of the tracked events (analytics/metrics/clickhouse/cohorts.py)."""
    found = engine()
    # Once events were purged, only the database still knows each person's first active day (the cohort):
    # the engine would put people first active before the horizon into later cohorts, so the rollups answer.
    if found is not None and not events_ever_purged():
        return retention_clickhouse(query, *found)
    today = business_today()
    step = _step(query.period)
    rng = query.range
    first_from = rng.date_from if query.period == "day" else week_start(rng.date_from)
    first_to = rng.date_to if query.period == "day" else week_start(rng.date_to) + timedelta(days=6)
    with analysis_session():
        daily_sizes = _cohort_sizes(min(first_from, rng.date_from), max(first_to, rng.date_to))
        counts: dict[tuple[date, int], int] = {}
        if query.period == "day":
            reach = max(query.intervals, max(CLASSIC_DAYS) + 1)
            daily = _daily_pairs(rng.date_from, rng.date_to, rng.date_to + timedelta(days=reach))
            for (first, active), users in daily.items():
                n = (active - first).days
                if 0 <= n < query.intervals:
                    counts[(first, n)] = users
        else:
            daily = _classic_pairs(rng.date_from, rng.date_to)
            # Distinct (cohort week, active week, user) first — hashed, not sorted — then counted per pair.
            inner = (
                DailyUserActivity.objects.filter(
                    day__gte=first_from,
                    day__lte=first_to + timedelta(days=step * query.intervals),
                    first_activity__first_day__gte=first_from,
                    first_activity__first_day__lte=first_to,
                )
                .annotate(
                    cw=TruncWeek("first_activity__first_day", output_field=DateField()),
                    aw=TruncWeek("day", output_field=DateField()),
                )
                .values("cw", "aw", "user_id")
                .distinct()
            )
            inner_sql, params = inner.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT cw, aw, COUNT(*) FROM ({inner_sql}) AS pairs GROUP BY cw, aw", params)  # noqa: S608
                weekly = [{"cw": cw, "aw": aw, "n": n} for cw, aw, n in cursor.fetchall()]
            for row in weekly:
                cohort, active = as_date(row["cw"]), as_date(row["aw"])
                n = (active - cohort).days // step
                if 0 <= n < query.intervals:
                    counts[(cohort, n)] = int(row["n"])
    in_range = {day: size for day, size in daily_sizes.items() if first_from <= day <= first_to}
    return retention_table(query, today=today, daily_sizes=in_range, counts=counts, daily=daily)


def retention_table(
    query: RetentionQuery,
    *,
    today: date,
    daily_sizes: dict[date, int],
    counts: dict[tuple[date, int], int],
    daily: dict[tuple[date, date], int],
    computed_from: str = "rollup",
) -> RetentionResult:
    """The answer from what either engine counted: each first day's cohort size (`daily_sizes`), members
    retained per (cohort start, interval) (`counts`) and per (first day, active day) (`daily`, for the classic
    rates). An interval not yet complete is None, not 0."""
    step = _step(query.period)
    sizes: dict[date, int] = defaultdict(int)
    for day, size in daily_sizes.items():
        sizes[day if query.period == "day" else week_start(day)] += size
    cohorts = []
    for cohort_start in sorted(sizes):
        retained: list[int | None] = []
        rates: list[float | None] = []
        for n in range(query.intervals):
            complete = cohort_start + timedelta(days=step * (n + 1) - 1) < today
            value = counts.get((cohort_start, n), 0) if complete else None
            retained.append(value)
            rates.append(None if value is None else percent(value, sizes[cohort_start]))
        cohorts.append(RetentionCohort(cohort_start, sizes[cohort_start], retained, rates))
    classic = _classic(rng=query.range, today=today, sizes=daily_sizes, pairs=daily)
    return RetentionResult(query.period, cohorts, classic, computed_from=computed_from)


def _classic(
    *, rng: DateRange, today: date, sizes: dict[date, int], pairs: dict[tuple[date, date], int]
) -> dict[str, float | None]:
    """D1/D7/D30 ("on day n") over the range's cohort days whose day n is before today."""
    result: dict[str, float | None] = {}
    for n in CLASSIC_DAYS:
        last_cohort = min(rng.date_to, today - timedelta(days=n + 1))
        if last_cohort < rng.date_from:
            result[f"d{n}"] = None
            continue
        size = sum(v for day, v in sizes.items() if rng.date_from <= day <= last_cohort)
        retained = sum(
            v
            for (first, active), v in pairs.items()
            if rng.date_from <= first <= last_cohort and (active - first).days == n
        )
        result[f"d{n}"] = percent(retained, size)
    return result


def classic_retention(*, rng: DateRange, today: date) -> dict[str, float | None]:
    """D1/D7/D30 ("on day n") over the range's cohort days whose day n is before today."""
    with analysis_session():
        sizes = _cohort_sizes(rng.date_from, rng.date_to)
        pairs = _classic_pairs(rng.date_from, rng.date_to)
    return _classic(rng=rng, today=today, sizes=sizes, pairs=pairs)
