"""Churn: users lost between consecutive periods; the share of active users the churn model puts at high risk."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

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
from analytics.models import UserPrediction

HIGH_CHURN_RISK = 0.7  # the churn model's probability from which a user counts as high risk


def _churn_rate(ctx: MetricContext, breakdown: str | None) -> Values:
    previous = ctx.evaluator.context(ctx.period.previous())
    before = active_user_ids(previous)
    total = before.count()
    if not total:
        return {OVERALL: None}
    kept = active_user_ids(ctx).filter(user_id__in=before).count()
    return {OVERALL: ratio(total - kept, total)}


def _high_churn_probability(ctx: MetricContext, breakdown: str | None) -> Values:
    in_period = UserPrediction.objects.filter(
        scored_on__gte=ctx.period.start, scored_on__lte=ctx.period.end, churn_risk__isnull=False
    )
    newer = in_period.filter(user_id=OuterRef("user_id"), scored_on__gt=OuterRef("scored_on"))
    latest = in_period.filter(user_id__in=active_user_ids(ctx)).exclude(Exists(newer))  # one per active user
    counts = latest.aggregate(users=Count("id"), high=Count("id", filter=Q(churn_risk__gte=HIGH_CHURN_RISK)))
    if not counts["users"]:
        return {OVERALL: None}
    return {OVERALL: ratio(counts["high"], counts["users"])}


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
        definition="Active users of the period whose latest churn prediction made during the period is ≥ 0.7 ÷ "
        "active users of the period with a churn prediction made during it × 100 (predictions: the churn "
        "model, scored after each hourly metrics run, docs/predictions.md). No data for a period in which "
        "no prediction was made.",
        direction=Direction.DOWN,
        compute=_high_churn_probability,
        # A consumer marketplace keeps about a third of its recent users at high risk as a matter of course
        # (most sign-ups never come back: docs/simulator.md, "Realism"); the thresholds flag a rise beyond it.
        warning=45,
        critical=60,
    )
)
