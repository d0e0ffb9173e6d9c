"""Business-intelligence shapes: overview, metrics, analyses, hosts (…In / …Out)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from analytics.metrics.analyses.funnels import DEFAULT_STEPS, DEFAULT_WINDOW_DAYS


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SoFarOut(_Out):
    period_start: date
    period_end: date
    value: float


class MetricCardOut(_Out):
    metric_name: str
    metric_type: str
    category: str
    unit: str
    question: str
    direction: str
    periods: list[str]
    breakdowns: list[str]
    period_type: str
    period_start: date | None
    period_end: date | None
    value: float | None
    previous_value: float | None
    change_percentage: float | None
    change_direction: str
    target_value: float | None
    warning_threshold: float | None
    critical_threshold: float | None
    status: str = Field(
        description="green / amber / red / no_data; partial for a period in progress, sparse when the value stands "
        "on fewer events than its minimum volume (neither is judged)"
    )
    is_alert_triggered: bool
    so_far: SoFarOut | None = Field(
        default=None, description="the period in progress so far (never judged), when the card shows a complete one"
    )


class OverviewOut(_Out):
    days: int
    date_from: date
    date_to: date
    total_events: int
    total_users: int
    new_users: int
    total_revenue: float
    active_users_today: int = Field(description="identified users active today so far, read in real time")
    events_today: int = Field(description="tracked events today so far (except API request logs), real time")
    today_as_of: datetime = Field(description="the instant today's figures were read")
    conversion_rate: float | None = Field(description="overall_conversion_rate over the window, percent")
    conversion_definition: str = Field(description="what conversion_rate counts (the metric and its definition)")
    avg_session_length: float | None = Field(description="minutes")
    top_insights: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    kpis: list[MetricCardOut]


class MetricCatalogueOut(BaseModel):
    count: int
    metrics: list[MetricCardOut]


class MetricPointOut(_Out):
    period_type: str
    period_start: date
    period_end: date
    breakdown_key: str
    dimensions: dict[str, Any]
    value: float | None
    previous_value: float | None
    change_percentage: float | None
    change_direction: str
    status: str
    is_alert_triggered: bool


class MetricHistoryOut(_Out):
    metric_name: str
    definition: str
    period_type: str
    current: MetricCardOut
    history: list[MetricPointOut]
    breakdowns: dict[str, list[MetricPointOut]]


class CalculateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date | None = Field(default=None, description="business day to recompute; omitted: every dirty day")


class CalculateOut(BaseModel):
    date: dt.date | None
    days_rebuilt: int
    periods: int
    rows: int
    alerts_opened: int  # by the alert check that follows the calculation
    alerts_resolved: int


class TrendPointOut(BaseModel):
    date: dt.date
    value: int


class TrendSeriesOut(BaseModel):
    breakdown_value: str | None
    total: int
    data: list[TrendPointOut]


class TrendsOut(BaseModel):
    event: str
    math: str
    interval: str
    date_from: date
    date_to: date
    series: list[TrendSeriesOut]
    computed_from: str = Field(
        description="where the days were read: rollup (every day current in the daily rollups), events, "
        "rollup+events (days still waiting for a rollup run read from the events), or clickhouse (the analytics "
        "engine's copy of the tracked events, when ANALYTICS_CLICKHOUSE_URL is set)"
    )


class FunnelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[str] = Field(default=list(DEFAULT_STEPS), description="ordered event names (1-10)")
    date_from: date | None = None
    date_to: date | None = None
    window_days: int = Field(default=DEFAULT_WINDOW_DAYS, ge=1, le=90)
    breakdown: str | None = Field(default=None, description="platform, city, category or host")
    same_listing: bool | None = Field(
        default=None,
        description="follow one listing through the steps; default: when every step is a listing event",
    )
    skip_payment_for_free: bool = True


class FunnelStepOut(_Out):
    order: int
    event_name: str
    count: int
    conversion_from_previous: float | None
    conversion_from_start: float | None
    median_seconds_from_previous: float | None
    median_seconds_from_start: float | None


class FunnelSeriesOut(_Out):
    breakdown_value: str | None
    entrants: int
    converted: int
    conversion_rate: float | None
    steps: list[FunnelStepOut]


class FunnelOut(BaseModel):
    steps: list[str]
    date_from: date
    date_to: date
    window_days: int
    same_listing: bool
    conversion_rate: float | None
    results: list[FunnelStepOut]
    breakdown: str | None
    breakdown_results: list[FunnelSeriesOut]
    # "rollup" (the marketplace funnel, as of the last metrics run), "events", or "clickhouse" (the engine)
    computed_from: str


_COHORTS_FROM = (
    "rollup (the SQL engine: the daily activity and first-activity rollups) or clickhouse (the analytics engine: "
    "the replicated tracked events)"
)


class RetentionCohortOut(_Out):
    cohort_start: date
    size: int
    retained: list[int | None]
    rates: list[float | None]


class RetentionOut(BaseModel):
    period: str
    date_from: date
    date_to: date
    intervals: int
    cohorts: list[RetentionCohortOut]
    retention_rate_1d: float | None
    retention_rate_7d: float | None
    retention_rate_30d: float | None
    computed_from: str = Field(description=_COHORTS_FROM)


class LifecyclePointOut(_Out):
    period_start: date
    active: int
    new: int
    returning: int
    resurrecting: int
    dormant: int


class LifecycleOut(BaseModel):
    interval: str
    date_from: date
    date_to: date
    data: list[LifecyclePointOut]
    computed_from: str = Field(description=_COHORTS_FROM)


class StickinessOut(BaseModel):
    date_from: date
    date_to: date
    days: int
    users: int
    distribution: list[dict[str, int]]
    dau_over_unique: float | None
    computed_from: str = Field(description=_COHORTS_FROM)


class SessionStatsOut(_Out):
    date_from: date
    date_to: date
    sessions: int
    identified_sessions: int
    identified_users: int
    avg_length_minutes: float | None
    median_length_minutes: float | None
    avg_events_per_session: float | None
    sessions_per_user: float | None
    bounce_rate: float | None


class AudienceGroupOut(_Out):
    value: str
    users: int


class HostOverviewOut(_Out):
    host_id: str
    days: int
    date_from: date
    date_to: date
    listings: int
    active_listings: int
    cancelled_listings: int
    views: int
    unique_viewers: int
    requests: int
    seats_requested: int
    conversion_rate: float | None
    revenue: float
    attendance: int
    check_ins: int
    reviews: int
    average_rating: float | None
    audience_by_city: list[AudienceGroupOut]
    audience_by_platform: list[AudienceGroupOut]
