"""Growth key results: month over month."""

from __future__ import annotations

from collections.abc import Callable

from analytics.metrics.registry import (
    Direction,
    Kind,
    MetricContext,
    MetricDefinition,
    Unit,
    Values,
    growth,
    register,
)
from analytics.metrics.selectors import OVERALL


def _growth_of(base: str) -> Callable[[MetricContext, str | None], Values]:
    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        current = ctx.value_of(base, ctx.period).get(OVERALL)
        previous = ctx.value_of(base, ctx.period.previous()).get(OVERALL)
        return {OVERALL: growth(current, previous)}

    return compute


GROWTH = "(this month − previous month) ÷ |previous month| × 100; no data when the previous month is 0 or has no data"

register(
    MetricDefinition(
        name="mau_growth",
        kind=Kind.KR,
        category="growth",
        unit=Unit.PERCENT,
        question="Is the monthly audience growing?",
        definition=f"monthly_active_users {GROWTH}.",
        direction=Direction.UP,
        compute=_growth_of("monthly_active_users"),
        periods=("month",),
        target=10,
        warning=0,
        critical=-10,
    )
)
register(
    MetricDefinition(
        name="monthly_event_creation_growth",
        kind=Kind.KR,
        category="growth",
        unit=Unit.PERCENT,
        question="Are hosts publishing more listings than last month?",
        definition=f"listings_created {GROWTH}.",
        direction=Direction.UP,
        compute=_growth_of("listings_created"),
        periods=("month",),
        target=15,
        warning=0,
        critical=-10,
    )
)
register(
    MetricDefinition(
        name="revenue_growth",
        kind=Kind.KR,
        category="growth",
        unit=Unit.PERCENT,
        question="Is net revenue growing month over month?",
        definition=f"net_revenue {GROWTH}.",
        direction=Direction.UP,
        compute=_growth_of("net_revenue"),
        periods=("month",),
        target=10,
        warning=0,
        critical=-10,
    )
)
