"""Payments and identity checks: success / failure / refund / chargeback rates, OTP, verification."""

from __future__ import annotations

from collections.abc import Callable

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
from analytics.metrics.selectors import OVERALL, counts_total, event_counts, users_who

PAYMENT_BREAKDOWNS = ("city", "category", "host", "platform")


def counts_ratio(
    numerator: tuple[str, ...], denominator: tuple[str, ...]
) -> Callable[[MetricContext, str | None], Values]:
    """numerator events ÷ denominator events × 100 in the period (tracked-event counts)."""
    names = tuple(sorted(set(numerator) | set(denominator)))

    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        counts = event_counts(ctx, names, breakdown)
        return {key: ratio(sum(c[n] for n in numerator), sum(c[n] for n in denominator)) for key, c in counts.items()}

    return compute


# A rate over fewer payments than this cannot tell 1% from 10% (one event moves it by 5 points or more).
MIN_PAYMENTS = 20
MIN_OTP_OUTCOMES = 20

OUTCOMES = "payment outcomes (payment_completed + payment_failed events) in the period"

register(
    MetricDefinition(
        name="payment_success_rate",
        kind=Kind.KPI,
        category="payments",
        unit=Unit.PERCENT,
        question="What share of payment attempts succeed?",
        definition=f"payment_completed events ÷ {OUTCOMES} × 100. No data without payment outcomes.",
        direction=Direction.UP,
        compute=counts_ratio(("payment_completed",), ("payment_completed", "payment_failed")),
        volume=counts_total(("payment_completed", "payment_failed")),
        min_volume=MIN_PAYMENTS,
        volume_label="payment outcomes",
        breakdowns=PAYMENT_BREAKDOWNS,
        warning=90,
        critical=80,
    )
)
register(
    MetricDefinition(
        name="payment_failure_rate",
        kind=Kind.KRI,
        category="payments",
        unit=Unit.PERCENT,
        question="What share of payment attempts fail?",
        definition=f"payment_failed events ÷ {OUTCOMES} × 100. No data without payment outcomes.",
        direction=Direction.DOWN,
        compute=counts_ratio(("payment_failed",), ("payment_completed", "payment_failed")),
        volume=counts_total(("payment_completed", "payment_failed")),
        min_volume=MIN_PAYMENTS,
        volume_label="payment outcomes",
        breakdowns=PAYMENT_BREAKDOWNS,
        warning=10,
        critical=20,
    )
)
register(
    MetricDefinition(
        name="refund_rate",
        kind=Kind.KRI,
        category="payments",
        unit=Unit.PERCENT,
        question="How many payments are given back?",
        definition="payment_refunded events in the period ÷ payment_completed events in the period × 100, each "
        "counted when it happened (a refund after the period counts in the later period). "
        "No data without completed payments.",
        direction=Direction.DOWN,
        compute=counts_ratio(("payment_refunded",), ("payment_completed",)),
        volume=counts_total(("payment_completed",)),
        min_volume=MIN_PAYMENTS,
        volume_label="completed payments",
        breakdowns=PAYMENT_BREAKDOWNS,
        warning=5,
        critical=10,
    )
)
register(
    MetricDefinition(
        name="chargeback_rate",
        kind=Kind.KRI,
        category="payments",
        unit=Unit.PERCENT,
        question="How many payments are disputed through the card network?",
        definition="payment_chargeback events in the period ÷ payment_completed events in the period × 100. "
        "No data without completed payments.",
        direction=Direction.DOWN,
        compute=counts_ratio(("payment_chargeback",), ("payment_completed",)),
        volume=counts_total(("payment_completed",)),
        min_volume=MIN_PAYMENTS,
        volume_label="completed payments",
        breakdowns=PAYMENT_BREAKDOWNS,
        warning=0.5,
        critical=1,
    )
)
register(
    MetricDefinition(
        name="ticket_purchase_success_ratio",
        kind=Kind.KR,
        category="payments",
        unit=Unit.PERCENT,
        question="Do started checkouts end in a ticket?",
        definition="payment_completed events ÷ payment_initiated events in the period × 100 (counts in the "
        "period; can exceed 100 when checkouts straddle the period boundary). No data without "
        "payment_initiated.",
        direction=Direction.UP,
        compute=counts_ratio(("payment_completed",), ("payment_initiated",)),
        volume=counts_total(("payment_initiated",)),
        min_volume=MIN_PAYMENTS,
        volume_label="started checkouts",
        breakdowns=PAYMENT_BREAKDOWNS,
        target=85,
        warning=75,
        critical=60,
    )
)
register(
    MetricDefinition(
        name="otp_verification_failure_rate",
        kind=Kind.KRI,
        category="identity",
        unit=Unit.PERCENT,
        question="How often does phone verification reject a code?",
        definition="otp_failed events ÷ (otp_verified + otp_failed events) in the period × 100. "
        "No data without OTP outcomes. Thresholds: people mistype or let codes expire on 10–15% of entries "
        "on a healthy SMS flow, so 20% (warning) and 35% (critical) mean codes are not arriving.",
        direction=Direction.DOWN,
        compute=counts_ratio(("otp_failed",), ("otp_verified", "otp_failed")),
        volume=counts_total(("otp_verified", "otp_failed")),
        min_volume=MIN_OTP_OUTCOMES,
        volume_label="OTP outcomes",
        breakdowns=("platform", "city"),
        warning=20,
        critical=35,
    )
)


def _pair_rate(started: str, finished: str) -> Callable[[MetricContext, str | None], Values]:
    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        starters = users_who(ctx, started)
        total = starters.count()
        done = users_who(ctx, finished).filter(user_id__in=starters).count() if total else 0
        return {OVERALL: ratio(done, total)}

    return compute


register(
    MetricDefinition(
        name="user_verification_completion_rate",
        kind=Kind.KR,
        category="identity",
        unit=Unit.PERCENT,
        question="Of the people who start phone verification, how many finish it?",
        definition="Distinct identified users with both an otp_generated and an otp_verified event in the period "
        "÷ distinct identified users with an otp_generated event in the period × 100. "
        "No data when nobody started.",
        direction=Direction.UP,
        compute=_pair_rate("otp_generated", "otp_verified"),
        target=90,
        warning=80,
        critical=60,
    )
)
register(
    MetricDefinition(
        name="profile_completion_rate",
        kind=Kind.KR,
        category="identity",
        unit=Unit.PERCENT,
        question="Do new users go on to fill in their profile?",
        definition="Distinct identified users with both a user_registered and a profile_updated event in the "
        "period ÷ distinct identified users with a user_registered event in the period × 100. "
        "No data without registrations.",
        direction=Direction.UP,
        compute=_pair_rate("user_registered", "profile_updated"),
        target=70,
        warning=50,
        critical=30,
    )
)
