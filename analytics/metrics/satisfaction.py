"""Satisfaction: ratings and review sentiment."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Avg, OuterRef, Subquery, Sum

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
from analytics.metrics.selectors import OVERALL, UNKNOWN, counts_total, event_totals
from analytics.models import DailyEventRollup, EventListing, UserEvent

RATING_BREAKDOWNS = ("city", "category", "host", "platform")
# An average of fewer reviews than this moves by half a star with one of them.
MIN_REVIEWS = 10


def _average_rating(ctx: MetricContext, breakdown: str | None) -> Values:
    totals = event_totals(ctx, ("review_submitted",), breakdown)
    return {
        key: quotient(t["review_submitted"].rating_sum, t["review_submitted"].events)
        if "review_submitted" in t
        else None
        for key, t in totals.items()
    }


def _average_listing_rating(ctx: MetricContext, breakdown: str | None) -> Values:
    rows = DailyEventRollup.objects.filter(
        day__gte=ctx.period.start, day__lte=ctx.period.end, event_name="review_submitted"
    ).exclude(listing_id="")
    column = {"category": "category", "host": "host_id"}.get(breakdown or "")
    if column:
        rows = rows.annotate(
            dim=Subquery(EventListing.objects.filter(listing_id=OuterRef("listing_id")).values(column)[:1])
        )
    per_listing = (
        rows.values("listing_id", *(["dim"] if column else []))
        .annotate(s=Sum("rating_sum"), n=Sum("events"))
        .order_by()
    )
    means: dict[str, list[float]] = defaultdict(list)
    for row in per_listing:
        means[(row["dim"] or UNKNOWN) if column else OVERALL].append(row["s"] / row["n"])
    if not column and not means:
        return {OVERALL: None}
    return {key: sum(values) / len(values) for key, values in means.items()}


def _average_sentiment(ctx: MetricContext, breakdown: str | None) -> Values:
    average = UserEvent.objects.filter(
        event_name="review_submitted",
        timestamp__gte=ctx.start,
        timestamp__lt=ctx.end,
        sentiment_score__isnull=False,
    ).aggregate(avg=Avg("sentiment_score"))["avg"]
    return {OVERALL: average}


register(
    MetricDefinition(
        name="average_rating",
        kind=Kind.KPI,
        category="satisfaction",
        unit=Unit.SCORE,
        question="How happy are attendees with the listings they went to?",
        definition="Mean `rating` (1–5) of the review_submitted events in the period (each review weighs the "
        "same). No data without reviews.",
        direction=Direction.UP,
        compute=_average_rating,
        volume=counts_total(("review_submitted",)),
        min_volume=MIN_REVIEWS,
        volume_label="reviews",
        breakdowns=RATING_BREAKDOWNS,
        warning=4.0,
        critical=3.5,
    )
)
register(
    MetricDefinition(
        name="average_review_sentiment",
        kind=Kind.KPI,
        category="satisfaction",
        unit=Unit.SCORE,
        question="How positive is what attendees write?",
        definition="Mean sentiment_score (−1…1) of the period's review_submitted events that have one. No data "
        "until sentiment scoring fills the scores.",
        direction=Direction.UP,
        compute=_average_sentiment,
        volume=counts_total(("review_submitted",)),
        min_volume=MIN_REVIEWS,
        volume_label="reviews",
        warning=0.1,
        critical=-0.2,
    )
)
register(
    MetricDefinition(
        name="average_listing_rating",
        kind=Kind.KR,
        category="satisfaction",
        unit=Unit.SCORE,
        question="Is the typical listing rated well (each listing weighs the same, however many reviews)?",
        definition="For each listing reviewed in the period, the mean rating of its review_submitted events in "
        "the period; the value is the mean of those listing means. No data without reviews.",
        direction=Direction.UP,
        compute=_average_listing_rating,
        volume=counts_total(("review_submitted",)),
        min_volume=MIN_REVIEWS,
        volume_label="reviews",
        breakdowns=("category", "host"),
        target=4.5,
        warning=4.0,
        critical=3.5,
    )
)
