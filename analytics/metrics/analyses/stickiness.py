"""Stickiness: how many days of a range the range's users were active (PostHog's stickiness),
and the average DAU ÷ unique users of the range (the `stickiness` metric's ratio)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.db.models import Count

from analytics.metrics.analyses import DateRange, percent
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.cohorts import stickiness_clickhouse
from analytics.metrics.periods import business_today
from analytics.models import DailyUserActivity


@dataclass(frozen=True)
class StickinessQuery:
    range: DateRange


@dataclass(frozen=True)
class StickinessResult:
    days: int  # days of the range up to today
    users: int  # distinct active users in the range
    distribution: list[tuple[int, int]]  # (active days k, users active on exactly k days), k = 1…days
    dau_over_unique: float | None  # average DAU ÷ unique users x 100
    computed_from: str = "rollup"  # "rollup" (the SQL engine) or "clickhouse" (the analytics engine)


def stickiness_run(*, query: StickinessQuery) -> StickinessResult:
    """Of the range's users, how many come back on many days rather than once? With an analytics engine
    configured, the engine answers (analytics/metrics/clickhouse/cohorts.py)."""
    found = engine()
    if found is not None:
        return stickiness_clickhouse(query, *found)
    today = business_today()
    days = [d for d in query.range.days() if d <= today]
    active = DailyUserActivity.objects.filter(day__gte=query.range.date_from, day__lte=min(query.range.date_to, today))
    per_user = active.values("user_id").annotate(k=Count("day", distinct=True)).order_by()
    histogram = Counter(row["k"] for row in per_user.iterator(chunk_size=5000))
    daily = active.values("day").annotate(n=Count("user_id", distinct=True)).order_by()
    return stickiness_result(days, histogram, dau_sum=sum(row["n"] for row in daily))


def stickiness_result(
    days: list[date], histogram: Counter[int], *, dau_sum: int, computed_from: str = "rollup"
) -> StickinessResult:
    """The answer from either engine's count: `histogram` (active days k → users) and the sum of daily active
    users over `days` (the range up to today)."""
    users = sum(histogram.values())
    average = dau_sum / len(days) if days else 0
    return StickinessResult(
        days=len(days),
        users=users,
        distribution=[(k, histogram.get(k, 0)) for k in range(1, len(days) + 1)],
        dau_over_unique=percent(average, users) if days else None,
        computed_from=computed_from,
    )
