"""Retention, lifecycle and stickiness on the analytics engine: the same answers as
`analyses.retention.retention_run`, `analyses.lifecycle.lifecycle_run` and `analyses.stickiness.stickiness_run`,
read from the replicated events (`computed_from` = "clickhouse").

The SQL engine reads two rollups (analytics/metrics/rollups.py); here they are derived from the events in the
statement itself, with the rollups' definitions:
- active (`DailyUserActivity`): an identified user (`user_id IS NOT NULL`) with a user-initiated event — any
  event but `NON_USER_EVENTS` (`api_request`, `app_error`) — on a business day (`toDate` in the business zone);
- first active (`UserFirstActivity`, the cohort): `min(day)` of those days, over every replicated event.

Each user is one row (`min(day)`, `groupUniqArray(day)` of their active days); the (cohort, active day) pairs,
the (cohort week, active week) pairs and the lifecycle periods are `ARRAY JOIN`s of those arrays, counted per
pair — a person active on several days of a week is one element of `arrayDistinct` of their weeks. Only the
scan's end is bounded (the last day an answer reads): a first day needs every earlier event.

One difference the engine cannot remove: the retention purge deletes events (here too) but the SQL side keeps
each purged person's `UserFirstActivity`. After a purge, a person first active before the purge horizon would be,
here, first active on their first *kept* day — counted in that later cohort and as "new" then, not
"resurrecting". So once a retention run has removed events, retention and lifecycle are answered by the rollups
(their dispatch checks `events_ever_purged`); stickiness reads no first day and stays on the engine.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING

from analytics.metrics.clickhouse.client import ClickHouse, rows
from analytics.metrics.clickhouse.expressions import Params, day_of
from analytics.metrics.clickhouse.schema import Layout
from analytics.metrics.periods import business_today, day_start
from analytics.metrics.selectors import NON_USER_EVENTS

if TYPE_CHECKING:
    from analytics.metrics.analyses.lifecycle import LifecycleQuery, LifecycleResult
    from analytics.metrics.analyses.retention import RetentionQuery, RetentionResult
    from analytics.metrics.analyses.stickiness import StickinessQuery, StickinessResult


def _active_days(layout: Layout, params: Params, *, since: date | None, until: date) -> str:
    """(user_id, day) of every active event on business days [since, until] (from the first event when
    `since` is None): the `DailyUserActivity` rows, one per event."""
    where = [
        "user_id IS NOT NULL",
        f"NOT has({params.add(list(NON_USER_EVENTS), 'Array(String)')}, event_name)",
        f"timestamp < {params.instant(day_start(until + timedelta(days=1)))}",
    ]
    if since is not None:
        where.append(f"timestamp >= {params.instant(day_start(since))}")
    return (
        f"SELECT user_id, {day_of()} AS day FROM {layout.events} FINAL "  # noqa: S608
        f"WHERE {' AND '.join(where)}"
    )


def _per_user(layout: Layout, params: Params, *, until: date, first_from: date, first_to: date) -> str:
    """One row per user first active on [first_from, first_to]: `first_day` and `days` (active days ≤ until)."""
    return (
        f"SELECT min(day) AS first_day, groupUniqArray(day) AS days "  # noqa: S608
        f"FROM ({_active_days(layout, params, since=None, until=until)}) GROUP BY user_id "
        f"HAVING first_day >= {params.add(first_from.isoformat(), 'Date')} "
        f"AND first_day <= {params.add(first_to.isoformat(), 'Date')}"
    )


def _cohort_pairs(
    client: ClickHouse,
    layout: Layout,
    *,
    first_from: date,
    first_to: date,
    until: date,
    offsets: range | tuple[int, ...],
    weeks: int,
) -> tuple[dict[tuple[date, date], int], dict[tuple[date, date], int]]:
    """({(first day, active day): users}, {(cohort week, active week): users}) of the users first active on
    [first_from, first_to], in one scan: day pairs `offsets` days apart (a range from 0: less than its stop);
    week pairs less than `weeks` weeks apart (none when 0)."""
    params = Params()
    per_user = _per_user(layout, params, until=until, first_from=first_from, first_to=first_to)
    apart = "dateDiff('day', first_day, d)"
    if isinstance(offsets, range):
        kept = f"{apart} < {params.add(str(offsets.stop), 'Int64')}"
    else:
        kept = f"{apart} IN ({', '.join(params.add(str(n), 'Int64') for n in offsets)})"
    parts = [f"arrayMap(d -> (0, first_day, d), arrayFilter(d -> {kept}, days))"]
    if weeks:
        parts.append(
            "arrayMap(w -> (1, toMonday(first_day), w), arrayFilter(w -> dateDiff('day', toMonday(first_day), w) < "
            f"{params.add(str(7 * weeks), 'Int64')}, arrayDistinct(arrayMap(d -> toMonday(d), days))))"
        )
    sql = (
        "SELECT tupleElement(pair, 1) AS kind, tupleElement(pair, 2) AS cohort, tupleElement(pair, 3) AS active, "  # noqa: S608
        f"count() AS users FROM ({per_user}) ARRAY JOIN arrayConcat({', '.join(parts)}) AS pair "
        "GROUP BY kind, cohort, active"
    )
    daily: dict[tuple[date, date], int] = {}
    weekly: dict[tuple[date, date], int] = {}
    for kind, cohort, active, users in rows(client, sql, params):
        (weekly if kind else daily)[(cohort, active)] = int(users)
    return daily, weekly


def retention_clickhouse(query: RetentionQuery, client: ClickHouse, layout: Layout) -> RetentionResult:
    """Cohorts by first active day (week) and who was active on day (week) n after it; the classic D1/D7/D30.

    Every cohort member is active on their first day, so a cohort's size is its pair at offset 0."""
    from analytics.metrics.analyses import week_start
    from analytics.metrics.analyses.retention import CLASSIC_DAYS, _step, retention_table

    today = business_today()
    step = _step(query.period)
    rng = query.range
    counts: dict[tuple[date, int], int] = {}
    if query.period == "day":
        first_from, first_to = rng.date_from, rng.date_to
        reach = max(query.intervals, max(CLASSIC_DAYS) + 1)
        daily, _ = _cohort_pairs(
            client,
            layout,
            first_from=first_from,
            first_to=first_to,
            until=first_to + timedelta(days=reach - 1),
            offsets=range(reach),
            weeks=0,
        )
        for (first, active), users in daily.items():
            n = (active - first).days
            if n < query.intervals:
                counts[(first, n)] = users
    else:
        first_from, first_to = week_start(rng.date_from), week_start(rng.date_to) + timedelta(days=6)
        daily, weekly = _cohort_pairs(
            client,
            layout,
            first_from=first_from,
            first_to=first_to,
            until=first_to + timedelta(days=max(step * query.intervals - 1, max(CLASSIC_DAYS))),
            offsets=(0, *CLASSIC_DAYS),
            weeks=query.intervals,
        )
        for (cohort, active), users in weekly.items():
            counts[(cohort, (active - cohort).days // step)] = users
    daily_sizes = {first: users for (first, active), users in daily.items() if first == active}
    return retention_table(
        query, today=today, daily_sizes=daily_sizes, counts=counts, daily=daily, computed_from="clickhouse"
    )


def lifecycle_clickhouse(query: LifecycleQuery, client: ClickHouse, layout: Layout) -> LifecycleResult:
    """Per period P: active, new (first active in P), returning (active in P-1 too), resurrecting (not in P-1,
    first active before P), dormant (active in P-1, not in P) — counted per period from each user's array of
    active periods, joined with P and P+1 (the period they may have gone dormant in)."""
    from analytics.metrics.analyses import buckets
    from analytics.metrics.analyses.lifecycle import LifecyclePoint, LifecycleResult

    starts = buckets(query.range, query.interval)
    days = 1 if query.interval == "day" else 7
    step = timedelta(days=days)
    first_bucket = starts[0] - step
    last_day = starts[-1] + step - timedelta(days=1)
    params = Params()
    active = _active_days(layout, params, since=None, until=last_day)
    period_of, first_period = ("day", "min(day)") if days == 1 else ("toMonday(day)", "toMonday(min(day))")
    window = params.add(first_bucket.isoformat(), "Date")
    shift = params.add(str(days), "Int64")
    per_user = (
        f"SELECT {first_period} AS first_period, "  # noqa: S608
        f"groupUniqArrayIf({period_of}, day >= {window}) AS periods "
        f"FROM ({active}) GROUP BY user_id HAVING notEmpty(periods)"
    )
    sql = (
        "SELECT period, countIf(cur), countIf(cur AND is_new), countIf(cur AND prev AND NOT is_new), "  # noqa: S608
        "countIf(cur AND NOT prev AND NOT is_new), countIf(prev AND NOT cur) "
        "FROM (SELECT period, has(periods, period) AS cur, has(periods, subtractDays(period, "
        f"{shift})) AS prev, first_period = period AS is_new FROM ({per_user}) "
        f"ARRAY JOIN arrayDistinct(arrayConcat(periods, arrayMap(p -> addDays(p, {shift}), periods))) AS period) "
        f"WHERE period >= {params.add(starts[0].isoformat(), 'Date')} "
        f"AND period <= {params.add(starts[-1].isoformat(), 'Date')} GROUP BY period"
    )
    found = {row[0]: tuple(int(v) for v in row[1:]) for row in rows(client, sql, params)}
    points = [LifecyclePoint(start, *found.get(start, (0, 0, 0, 0, 0))) for start in starts]
    return LifecycleResult(query.interval, points, computed_from="clickhouse")


def stickiness_clickhouse(query: StickinessQuery, client: ClickHouse, layout: Layout) -> StickinessResult:
    """How many of the range's days (up to today) each active user was active: `uniqExact(day)` per user,
    counted per number of days. The sum of DAU over the days is the sum of those day counts."""
    from analytics.metrics.analyses.stickiness import stickiness_result

    today = business_today()
    days = [d for d in query.range.days() if d <= today]
    histogram: Counter[int] = Counter()
    if days:
        params = Params()
        active = _active_days(layout, params, since=query.range.date_from, until=days[-1])
        sql = f"SELECT k, count() FROM (SELECT uniqExact(day) AS k FROM ({active}) GROUP BY user_id) GROUP BY k"  # noqa: S608
        histogram.update({int(k): int(n) for k, n in rows(client, sql, params)})
    # Σ daily active users = Σ over users of their active days: the histogram holds both.
    return stickiness_result(
        days, histogram, dau_sum=sum(k * n for k, n in histogram.items()), computed_from="clickhouse"
    )
