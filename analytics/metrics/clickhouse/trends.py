"""Trends on the analytics engine: the same answer as `analyses.trends.trends_run`, read from the
replicated events (`computed_from` = "clickhouse").

Counts are `count()` of events; reach is `uniqExact(user_id)` of identified users — per bucket and, for
the totals, over the whole range (a person active in two weeks counts once in the total)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from analytics.metrics.clickhouse.client import ClickHouse, rows
from analytics.metrics.clickhouse.expressions import Params, bucket_of, label, property_text
from analytics.metrics.clickhouse.schema import Layout

if TYPE_CHECKING:
    from analytics.metrics.analyses.trends import TrendsQuery, TrendsResult


def trends_clickhouse(query: TrendsQuery, client: ClickHouse, layout: Layout) -> TrendsResult:
    from analytics.metrics.analyses import buckets
    from analytics.metrics.analyses.trends import COLUMNS, MAX_SERIES, TrendSeries, TrendsResult

    params = Params()
    where = [
        f"event_name = {params.add(query.event, 'String')}",
        f"timestamp >= {params.instant(query.range.start)}",
        f"timestamp < {params.instant(query.range.end)}",
    ]
    for key, value in query.properties:
        where.append(f"{property_text(params.add(key, 'String'))} = {params.add(value, 'String')}")
    unique = query.math == "unique_users"
    if unique:
        where.append("user_id IS NOT NULL")
    if query.breakdown is None:
        dim = "''"
    elif query.breakdown in COLUMNS:  # the engine's columns carry the database's names
        dim = label(COLUMNS[query.breakdown])
    else:
        dim = label(property_text(params.add(query.breakdown.removeprefix("properties."), "String")))
    measure = "uniqExact(user_id)" if unique else "count()"
    source = f"{layout.events} FINAL"
    condition = " AND ".join(where)
    sql = (
        f"SELECT {dim} AS dim, {bucket_of(query.interval)} AS bucket, {measure} AS n "  # noqa: S608
        f"FROM {source} WHERE {condition} GROUP BY dim, bucket"
    )
    breakdown = query.breakdown is not None
    points: dict[str | None, dict[date, int]] = defaultdict(dict)
    for value, bucket, n in rows(client, sql, params):
        points[str(value) if breakdown else None][bucket] = int(n)
    totals: dict[str | None, int] = {}
    if unique:
        sql = f"SELECT {dim} AS dim, uniqExact(user_id) FROM {source} WHERE {condition} GROUP BY dim"  # noqa: S608
        totals = {(str(value) if breakdown else None): int(n) for value, n in rows(client, sql, params)}
    else:
        totals = {key: sum(by_bucket.values()) for key, by_bucket in points.items()}
    if not breakdown:
        points.setdefault(None, {})
        totals.setdefault(None, 0)
    starts = buckets(query.range, query.interval)
    keys = sorted(points, key=lambda k: (-totals.get(k, 0), k or ""))
    series = [TrendSeries(k, totals.get(k, 0), [(s, points[k].get(s, 0)) for s in starts]) for k in keys[:MAX_SERIES]]
    return TrendsResult(query.event, query.math, query.interval, series, computed_from="clickhouse")
