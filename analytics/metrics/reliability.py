"""Reliability of the platform: API errors and latency (from api_request), app errors per session."""

from __future__ import annotations

import math
from datetime import timedelta

from analytics.metrics.registry import (
    Direction,
    Kind,
    MetricContext,
    MetricDefinition,
    Unit,
    Values,
    ratio,
    register,
)
from analytics.metrics.selectors import OVERALL, event_totals
from analytics.models import Session, UserEvent


def _api_error_rate(ctx: MetricContext, breakdown: str | None) -> Values:
    totals = event_totals(ctx, ("api_request",), breakdown)
    return {
        key: ratio(t["api_request"].server_errors, t["api_request"].events) if "api_request" in t else None
        for key, t in totals.items()
    }


def _api_p95_latency(ctx: MetricContext, breakdown: str | None) -> Values:
    timed = UserEvent.objects.filter(
        event_name="api_request",
        timestamp__gte=ctx.start,
        timestamp__lt=ctx.end,
        response_time_ms__isnull=False,
    )
    count = timed.count()
    if not count:
        return {OVERALL: None}
    rank = math.ceil(0.95 * count)  # nearest rank
    value = timed.order_by("response_time_ms").values_list("response_time_ms", flat=True)[rank - 1]
    return {OVERALL: None if value is None else float(value)}


def _app_error_rate_per_session(ctx: MetricContext, breakdown: str | None) -> Values:
    sessions = Session.objects.filter(started_at__gte=ctx.start, started_at__lt=ctx.end)
    total = sessions.count()
    if not total:
        return {OVERALL: None}
    with_errors = (
        UserEvent.objects.filter(
            event_name="app_error",
            timestamp__gte=ctx.start,
            timestamp__lt=ctx.end + timedelta(hours=24),  # sessions last ≤ 24 h
            session_id__in=sessions.values("session_id"),
        )
        .values("session_id")
        .distinct()
        .count()
    )
    return {OVERALL: ratio(with_errors, total)}


register(
    MetricDefinition(
        name="api_error_rate",
        kind=Kind.KRI,
        category="reliability",
        unit=Unit.PERCENT,
        question="How often does the platform's API fail with a server error?",
        definition="api_request events with status_code ≥ 500 ÷ all api_request events in the period × 100. "
        "No data without api_request events.",
        direction=Direction.DOWN,
        compute=_api_error_rate,
        warning=1,
        critical=5,
    )
)
register(
    MetricDefinition(
        name="api_p95_latency_ms",
        kind=Kind.KRI,
        category="reliability",
        unit=Unit.MILLISECONDS,
        question="How slow are the slowest 5% of the platform's API requests?",
        definition="95th percentile (nearest rank: the ⌈0.95·n⌉-th smallest) of response_time_ms over the "
        "period's n api_request events that carry it. No data without such events.",
        direction=Direction.DOWN,
        compute=_api_p95_latency,
        warning=800,
        critical=2000,
    )
)
register(
    MetricDefinition(
        name="app_error_rate_per_session",
        kind=Kind.KRI,
        category="reliability",
        unit=Unit.PERCENT,
        question="What share of visits hit an application error?",
        definition="Sessions that started in the period and contain at least one app_error event ÷ sessions "
        "that started in the period × 100. No data without sessions.",
        direction=Direction.DOWN,
        compute=_app_error_rate_per_session,
        warning=5,
        critical=10,
    )
)
