"""Churn: users lost between consecutive periods; the predicted high-risk share (filled later)."""

from __future__ import annotations

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
from analytics.metrics.selectors import OVERALL, active_user_ids


def _churn_rate(ctx: MetricContext, breakdown: str | None) -> Values:
    previous = ctx.evaluator.context(ctx.period.previous())
    before = active_user_ids(previous)
    total = before.count()
    if not total:
        return {OVERALL: None}
    kept = active_user_ids(ctx).filter(user_id__in=before).count()
    return {OVERALL: ratio(total - kept, total)}


def _high_churn_probability(ctx: MetricContext, breakdown: str | None) -> Values:
    return {OVERALL: None}  # no churn predictions yet (the predictions issue fills this)


register(
    MetricDefinition(
        name="churn_rate",
        kind=Kind.KRI,
        category="retention",
        unit=Unit.PERCENT,
        question="What share of last period's users did not come back this period?",
        definition="Active users of the previous period (week or month) who are not active in this period ÷ "
        "active users of the previous period × 100 (active = identified, with a user-initiated "
        "event). No data when the previous period had no active user.",
        direction=Direction.DOWN,
        compute=_churn_rate,
        periods=("week", "month"),
        warning=40,
        critical=60,
    )
)
register(
    MetricDefinition(
        name="high_churn_probability_rate",
        kind=Kind.KRI,
        category="retention",
        unit=Unit.PERCENT,
        question="What share of active users is at high risk of churning?",
        definition="Active users of the period whose latest churn prediction is ≥ 0.7 ÷ active users of the "
        "period × 100. Reports no data until churn predictions exist.",
        direction=Direction.DOWN,
        compute=_high_churn_probability,
        warning=20,
        critical=35,
    )
)
