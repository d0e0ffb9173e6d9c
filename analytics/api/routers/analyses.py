"""Analyses on demand (analyst, admin): trends, funnels, retention, lifecycle, stickiness, sessions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOrAnalyst
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.analytics import (
    FunnelIn,
    FunnelOut,
    FunnelSeriesOut,
    FunnelStepOut,
    LifecycleOut,
    LifecyclePointOut,
    RetentionCohortOut,
    RetentionOut,
    SessionStatsOut,
    StickinessOut,
    TrendPointOut,
    TrendSeriesOut,
    TrendsOut,
)
from analytics.metrics.analyses import date_range
from analytics.metrics.analyses.funnels import FunnelQuery, funnel_run
from analytics.metrics.analyses.lifecycle import LifecycleQuery, lifecycle_run
from analytics.metrics.analyses.retention import RetentionQuery, retention_run
from analytics.metrics.analyses.sessions import SessionStatsQuery, session_stats_run
from analytics.metrics.analyses.stickiness import StickinessQuery, stickiness_run
from analytics.metrics.analyses.trends import TrendsQuery, parse_property_filters, trends_run

router = APIRouter(prefix=API_PREFIX, tags=["analyses"])

DateFrom = Annotated[date | None, Query(description="first business day (default: 30 days before date_to)")]
DateTo = Annotated[date | None, Query(description="last business day, inclusive (default: today)")]


@router.get("/trends", response_model=TrendsOut, summary="Trends of an event")
async def trends(
    principal: AdminOrAnalyst,
    event: Annotated[str, Query(min_length=1, max_length=200)],
    date_from: DateFrom = None,
    date_to: DateTo = None,
    interval: Annotated[str, Query(pattern="^(day|week)$")] = "day",
    math: Annotated[str, Query(pattern="^(total|unique_users)$")] = "total",
    breakdown: Annotated[str | None, Query(max_length=80)] = None,
    property: Annotated[list[str] | None, Query(max_length=10, description="filter key=value (repeatable)")] = None,
) -> TrendsOut:
    """Count (or distinct identified users) of `event` per business day or week, optionally broken down by a
    column or `properties.<key>` and filtered on properties. Totals (no property filter; by nothing,
    platform, city or listing) and unique users (no breakdown) read the daily rollups for the days they
    are current and the tracked events for the others (`computed_from`); the numbers are the same."""
    rng = date_range(date_from=date_from, date_to=date_to)
    query = TrendsQuery(
        event=event,
        range=rng,
        interval=interval,
        math=math,
        breakdown=breakdown,
        properties=parse_property_filters(property or []),
    )
    result = await run_db(trends_run, query=query)
    return TrendsOut(
        event=result.event,
        math=result.math,
        interval=result.interval,
        date_from=rng.date_from,
        date_to=rng.date_to,
        series=[
            TrendSeriesOut(
                breakdown_value=s.breakdown_value,
                total=s.total,
                data=[TrendPointOut(date=d, value=v) for d, v in s.points],
            )
            for s in result.series
        ],
        computed_from=result.computed_from,
    )


@router.post("/funnels", response_model=FunnelOut, summary="Funnel")
async def funnels(principal: AdminOrAnalyst, body: FunnelIn) -> FunnelOut:
    """Ordered steps per user within the conversion window: per-step counts, conversion and median time.
    The default (view → request → payment → check-in, one listing, free listings skip payment, 14 days)
    is `overall_conversion_rate`'s definition; without a breakdown it is read from the funnel-reach rollup
    (`computed_from: "rollup"`, as fresh as the last metrics run), every other funnel from the tracked
    events (`computed_from: "events"`) — or by the analytics engine when one is configured (`"clickhouse"`)."""
    rng = date_range(date_from=body.date_from, date_to=body.date_to)
    query = FunnelQuery(
        range=rng,
        steps=tuple(body.steps),
        window_days=body.window_days,
        breakdown=body.breakdown,
        same_listing=body.same_listing,
        skip_payment_for_free=body.skip_payment_for_free,
    )
    result = await run_db(funnel_run, query=query, from_rollup=True)
    return FunnelOut(
        steps=list(query.steps),
        date_from=rng.date_from,
        date_to=rng.date_to,
        window_days=query.window_days,
        same_listing=result.by_listing,
        conversion_rate=result.overall.conversion_rate,
        results=[FunnelStepOut.model_validate(s) for s in result.overall.steps],
        breakdown=query.breakdown,
        breakdown_results=[FunnelSeriesOut.model_validate(s) for s in result.breakdown],
        computed_from=result.computed_from,
    )


@router.get("/retention", response_model=RetentionOut, summary="Retention cohorts")
async def retention(
    principal: AdminOrAnalyst,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    period: Annotated[str, Query(pattern="^(day|week)$")] = "day",
    intervals: Annotated[int, Query(ge=1, le=92)] = 31,
) -> RetentionOut:
    """Cohorts by first active business day (or week) with the share active on day (week) n — incomplete
    cells are null — and classic D1/D7/D30 over the range's mature cohort days."""
    rng = date_range(date_from=date_from, date_to=date_to)
    result = await run_db(retention_run, query=RetentionQuery(range=rng, period=period, intervals=intervals))
    return RetentionOut(
        period=result.period,
        date_from=rng.date_from,
        date_to=rng.date_to,
        intervals=intervals,
        cohorts=[RetentionCohortOut.model_validate(c) for c in result.cohorts],
        retention_rate_1d=result.classic["d1"],
        retention_rate_7d=result.classic["d7"],
        retention_rate_30d=result.classic["d30"],
        computed_from=result.computed_from,
    )


@router.get("/lifecycle", response_model=LifecycleOut, summary="User lifecycle")
async def lifecycle(
    principal: AdminOrAnalyst,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    interval: Annotated[str, Query(pattern="^(day|week)$")] = "day",
) -> LifecycleOut:
    """Per business day (week): active users split into new / returning / resurrecting, and the dormant."""
    rng = date_range(date_from=date_from, date_to=date_to)
    result = await run_db(lifecycle_run, query=LifecycleQuery(range=rng, interval=interval))
    return LifecycleOut(
        interval=result.interval,
        date_from=rng.date_from,
        date_to=rng.date_to,
        data=[LifecyclePointOut.model_validate(p) for p in result.points],
        computed_from=result.computed_from,
    )


@router.get("/stickiness", response_model=StickinessOut, summary="Stickiness")
async def stickiness(principal: AdminOrAnalyst, date_from: DateFrom = None, date_to: DateTo = None) -> StickinessOut:
    """How many of the range's days its users were active, and average DAU ÷ unique users."""
    rng = date_range(date_from=date_from, date_to=date_to)
    result = await run_db(stickiness_run, query=StickinessQuery(range=rng))
    return StickinessOut(
        date_from=rng.date_from,
        date_to=rng.date_to,
        days=result.days,
        users=result.users,
        distribution=[{"days": k, "users": n} for k, n in result.distribution],
        dau_over_unique=result.dau_over_unique,
        computed_from=result.computed_from,
    )


@router.get("/sessions", response_model=SessionStatsOut, summary="Session statistics")
async def sessions(principal: AdminOrAnalyst, date_from: DateFrom = None, date_to: DateTo = None) -> SessionStatsOut:
    """Sessions that started in the range: count, length (mean, median), depth, bounce rate."""
    rng = date_range(date_from=date_from, date_to=date_to)
    result = await run_db(session_stats_run, query=SessionStatsQuery(range=rng))
    return SessionStatsOut(date_from=rng.date_from, date_to=rng.date_to, **result.__dict__)
