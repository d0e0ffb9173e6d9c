"""Conversion: view → request → payment → check-in, per user, ordered, within 14 days.

Reads the rollups: entrants from `DailyUserEvent`, converted users from `DailyFunnelReach`, which the
funnel engine (analytics/metrics/analyses/funnel_paths.py) fills per view day — the same engine as
`POST /funnels`, so the default funnel's conversion over a range equals this metric."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from analytics.metrics.analyses.funnel_paths import DEFAULT_STEPS
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
from analytics.metrics.rollups import FUNNEL_LOOKBACK_DAYS, funnel_days
from analytics.metrics.selectors import OVERALL, users_who
from analytics.models import DailyFunnelReach


def _overall_conversion(ctx: MetricContext, breakdown: str | None) -> Values:
    entrants = users_who(ctx, DEFAULT_STEPS[0]).count()
    converted = (
        DailyFunnelReach.objects.filter(day__gte=ctx.period.start, day__lte=ctx.period.end, reached=len(DEFAULT_STEPS))
        .values("user_id")
        .distinct()
        .count()
    )
    return {OVERALL: ratio(converted, entrants)}


def _affects(day: date) -> Iterable[date]:
    return sorted(funnel_days([day]))


register(
    MetricDefinition(
        name="overall_conversion_rate",
        kind=Kind.KPI,
        category="conversion",
        unit=Unit.PERCENT,
        question="What share of the people who look at a listing end up attending one?",
        definition=(
            "Entrants: identified users with an event_viewed in the period. Converted: entrants who, for one "
            "listing, viewed it in the period and then — in this order, each step at or after the previous one, "
            "the last within 14 days (336 hours) of that view — requested it (event_requested), paid for it "
            "(payment_completed; skipped when the listing's price is 0) and checked in (event_checked_in). "
            "Value = converted ÷ entrants × 100. Later steps may fall after the period. No data without entrants."
        ),
        direction=Direction.UP,
        compute=_overall_conversion,
        warning=5,
        critical=2,
        affects=_affects,
        settles_after_days=FUNNEL_LOOKBACK_DAYS,  # the 14-day window after a view on the period's last day
    )
)


def _view_to_request(ctx: MetricContext, breakdown: str | None) -> Values:
    viewers = users_who(ctx, "event_viewed")
    requested = users_who(ctx, "event_requested").filter(user_id__in=viewers).count()
    return {OVERALL: ratio(requested, viewers.count())}


register(
    MetricDefinition(
        name="view_to_request_rate",
        kind=Kind.KPI,
        category="conversion",
        unit=Unit.PERCENT,
        question="Of the people who look at listings, what share ask to join one?",
        definition=(
            "Identified users with an event_viewed in the period who also made an event_requested in the period "
            "÷ identified users with an event_viewed in the period × 100 (for a day, the same business day). "
            "Settles at once, unlike overall_conversion_rate: it is the conversion series anomaly detection "
            "watches. No data without viewers."
        ),
        direction=Direction.UP,
        compute=_view_to_request,
    )
)
