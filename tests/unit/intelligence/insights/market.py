"""A hand-built marketplace for the insight generators: listings with a start, seats and the requests the
daily rollup counted for them — the two tables the listing comparisons read."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from analytics.metrics.periods import business_day, business_zone
from analytics.models import DailyEventRollup, EventListing

_counter = iter(range(1, 10**9))


def listing(
    *,
    host: str,
    category: str,
    city: str = "Pune",
    starts_at: datetime,
    capacity: int,
    seats_requested: int,
    requests: int,
    price: int = 500,
) -> str:
    """One past listing and its requests (rolled up on its start's business day)."""
    listing_id = f"L{next(_counter)}"
    EventListing.objects.create(
        listing_id=listing_id,
        host_id=host,
        title=f"{category} night",
        category=category,
        city=city,
        price=Decimal(price),
        capacity=capacity,
        starts_at=starts_at,
        state_at=starts_at - timedelta(days=20),
    )
    if requests:
        DailyEventRollup.objects.create(
            day=business_day(starts_at - timedelta(days=3)),
            event_name="event_requested",
            listing_id=listing_id,
            platform="web",
            city=city,
            events=requests,
            seats=seats_requested,
        )
    return listing_id


def local(now: datetime, *, days_ago: int, weekday: int, hour: int) -> datetime:
    """An instant `days_ago` or a little more before `now`, moved back to `weekday` (0 = Monday) at `hour`
    in the business time zone."""
    day = (now - timedelta(days=days_ago)).astimezone(business_zone())
    day -= timedelta(days=(day.weekday() - weekday) % 7)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)
