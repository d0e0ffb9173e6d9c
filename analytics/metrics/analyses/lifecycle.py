"""Lifecycle: per period, how the active users split into new / returning / resurrecting, and who
went dormant.

Per period P (a business day or a Monday-Sunday week) and the period before it, P-1 (PostHog's
lifecycle):
- new: active in P and first active (UserFirstActivity) in P;
- returning: active in P and in P-1, not new;
- resurrecting: active in P, not in P-1, first active before P;
- dormant: active in P-1 and not in P (reported as a positive count).
Active = identified with a user-initiated event (the rollup `DailyUserActivity`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import DateField
from django.db.models.functions import TruncWeek

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, as_date, buckets
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.cohorts import lifecycle_clickhouse
from analytics.models import DailyUserActivity, UserFirstActivity
from analytics.privacy.retention import events_ever_purged

_CHUNK = 5000


@dataclass(frozen=True)
class LifecycleQuery:
    range: DateRange
    interval: str = "day"

    def __post_init__(self) -> None:
        if self.interval not in ("day", "week"):
            raise ValidationFailed("interval is day or week", code="invalid_interval")


@dataclass(frozen=True)
class LifecyclePoint:
    period_start: date
    active: int
    new: int
    returning: int
    resurrecting: int
    dormant: int


@dataclass(frozen=True)
class LifecycleResult:
    interval: str
    points: list[LifecyclePoint]
    computed_from: str = "rollup"  # "rollup" (the SQL engine) or "clickhouse" (the analytics engine)


def lifecycle_run(*, query: LifecycleQuery) -> LifecycleResult:
    """Where do each period's users come from — new, returning, back after a gap — and who left? With an
    analytics engine configured, the engine answers (analytics/metrics/clickhouse/cohorts.py)."""
    found = engine()
    # Once events were purged, only the database still knows each person's first active day (the cohort):
    # the engine would put people first active before the horizon into later cohorts, so the rollups answer.
    if found is not None and not events_ever_purged():
        return lifecycle_clickhouse(query, *found)
    starts = buckets(query.range, query.interval)
    step = timedelta(days=1 if query.interval == "day" else 7)
    first_bucket = starts[0] - step
    last_day = starts[-1] + step - timedelta(days=1)
    rows = DailyUserActivity.objects.filter(day__gte=first_bucket, day__lte=last_day)
    if query.interval == "day":
        pairs = rows.values_list("day", "user_id").distinct()
    else:
        pairs = rows.annotate(w=TruncWeek("day", output_field=DateField())).values_list("w", "user_id").distinct()
    active: dict[date, set[str]] = defaultdict(set)
    for bucket, user in pairs.order_by().iterator(chunk_size=_CHUNK):
        active[as_date(bucket)].add(user)
    users = set().union(*active.values()) if active else set()
    first_day: dict[str, date] = {}
    ordered = sorted(users)
    for i in range(0, len(ordered), 500):
        first_day.update(
            UserFirstActivity.objects.filter(user_id__in=ordered[i : i + 500]).values_list("user_id", "first_day")
        )
    points = []
    for start in starts:
        now_active, before = active.get(start, set()), active.get(start - step, set())
        end = start + step
        new = {u for u in now_active if u in first_day and start <= first_day[u] < end}
        returning = (now_active & before) - new
        resurrecting = now_active - before - new
        points.append(
            LifecyclePoint(
                start, len(now_active), len(new), len(returning), len(resurrecting), len(before - now_active)
            )
        )
    return LifecycleResult(query.interval, points)
