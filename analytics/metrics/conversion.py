"""Conversion: view → request → payment → check-in, per user, ordered, within 14 days."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

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
from analytics.metrics.selectors import OVERALL, users_who
from analytics.models import EventListing, UserEvent

CONVERSION_WINDOW = timedelta(days=14)
FUNNEL_STEPS = ("event_viewed", "event_requested", "payment_completed", "event_checked_in")


def _first_at_or_after(times: list[datetime], instant: datetime) -> datetime | None:
    position = bisect_left(times, instant)
    return times[position] if position < len(times) else None


def _converted(steps: dict[str, list[datetime]], *, free: bool, start: datetime, end: datetime) -> bool:
    """Does some view in [start, end) lead, in order and within the window, to a check-in?"""
    for viewed in steps["event_viewed"]:
        if not start <= viewed < end:
            continue
        deadline = viewed + CONVERSION_WINDOW
        at = _first_at_or_after(steps["event_requested"], viewed)
        if at is not None and not free:
            at = _first_at_or_after(steps["payment_completed"], at)
        if at is not None:
            at = _first_at_or_after(steps["event_checked_in"], at)
        if at is not None and at <= deadline:
            return True
    return False


def _overall_conversion(ctx: MetricContext, breakdown: str | None) -> Values:
    entrants = users_who(ctx, "event_viewed")
    total = entrants.count()
    if not total:
        return {OVERALL: None}
    journeys: dict[tuple[str, str], dict[str, list[datetime]]] = defaultdict(lambda: {s: [] for s in FUNNEL_STEPS})
    rows = (
        UserEvent.objects.filter(
            event_name__in=FUNNEL_STEPS,
            user_id__in=entrants,
            listing_id__isnull=False,
            timestamp__gte=ctx.start,
            timestamp__lt=ctx.end + CONVERSION_WINDOW,
        )
        .order_by("timestamp", "id")
        .values_list("user_id", "listing_id", "event_name", "timestamp")
    )
    for user_id, listing_id, name, at in rows.iterator(chunk_size=5000):
        if user_id is not None and listing_id is not None:
            journeys[(user_id, listing_id)][name].append(at)
    free = set(EventListing.objects.filter(price=0).values_list("listing_id", flat=True))
    converted = {
        user
        for (user, listing), steps in journeys.items()
        if _converted(steps, free=listing in free, start=ctx.start, end=ctx.end)
    }
    return {OVERALL: ratio(len(converted), total)}


def _affects(day: date) -> Iterable[date]:
    # A step on `day` can complete a journey whose view was up to 14 days (+1 for a DST hour) earlier.
    return [day - timedelta(days=n) for n in range(16)]


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
    )
)
