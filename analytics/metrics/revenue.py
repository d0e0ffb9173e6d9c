"""Revenue: net revenue, per user and per paying user."""

from __future__ import annotations

from decimal import Decimal

from analytics.metrics.registry import (
    Direction,
    Kind,
    MetricContext,
    MetricDefinition,
    Unit,
    Values,
    quotient,
    register,
)
from analytics.metrics.selectors import active_users, event_totals, users_who

REVENUE_EVENTS = ("payment_completed", "payment_refunded", "payment_chargeback")
NET_REVENUE = (
    "net revenue = sum of revenue_impact of the period's payment_completed (+amount), payment_refunded "
    "(−amount) and payment_chargeback (−amount) events, each counted in the period in which it happened "
    "(a refund after the period lowers the later period)"
)


def _net_revenue_by(ctx: MetricContext, breakdown: str | None) -> dict[str, Decimal]:
    totals = event_totals(ctx, REVENUE_EVENTS, breakdown)
    return {key: sum((t.amount for t in by_name.values()), Decimal(0)) for key, by_name in totals.items()}


def _net_revenue(ctx: MetricContext, breakdown: str | None) -> Values:
    return {key: float(amount) for key, amount in _net_revenue_by(ctx, breakdown).items()}


def _revenue_per_user(ctx: MetricContext, breakdown: str | None) -> Values:
    revenue = _net_revenue_by(ctx, breakdown)
    users = active_users(ctx, breakdown)
    return {key: quotient(float(revenue.get(key, 0)), n) for key, n in users.items()}


def _revenue_per_paying_user(ctx: MetricContext, breakdown: str | None) -> Values:
    revenue = _net_revenue_by(ctx, None)[""]
    return {"": quotient(float(revenue), users_who(ctx, "payment_completed").count())}


register(
    MetricDefinition(
        name="net_revenue",
        kind=Kind.KPI,
        category="revenue",
        unit=Unit.CURRENCY,
        question="How much money did Loopin take in the period, after refunds and chargebacks?",
        definition=f"The period's {NET_REVENUE}. 0 when there were no payment events.",
        direction=Direction.UP,
        compute=_net_revenue,
        breakdowns=("city", "category", "host", "platform"),
    )
)
register(
    MetricDefinition(
        name="revenue_per_user",
        kind=Kind.KPI,
        category="revenue",
        unit=Unit.CURRENCY,
        question="How much revenue does an active user bring in the period (RPU)?",
        definition=f"The period's {NET_REVENUE}, divided by the period's active users (distinct identified users "
        "with a user-initiated event). No data when the period had no active user.",
        direction=Direction.UP,
        compute=_revenue_per_user,
        breakdowns=("platform", "city"),
    )
)
register(
    MetricDefinition(
        name="revenue_per_paying_user",
        kind=Kind.KPI,
        category="revenue",
        unit=Unit.CURRENCY,
        question="How much does a paying user bring in the period?",
        definition=f"The period's {NET_REVENUE}, divided by the distinct identified users with a "
        "payment_completed in the period. No data when nobody paid.",
        direction=Direction.UP,
        compute=_revenue_per_paying_user,
    )
)
