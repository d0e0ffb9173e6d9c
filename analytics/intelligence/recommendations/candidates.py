"""The listings a person may be recommended at an instant: created before it, starting after it, not cancelled
by then, and not full (confirmed seats, as the attendance model counts them, below the capacity) — with how
much interest each drew in the last 14 days (views and requests), read set-based."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from analytics.intelligence.attendance.seats import requests_read
from analytics.metrics.periods import business_zone
from analytics.models import EventListing, UserEvent

POPULARITY_DAYS = 14
PRICE_BANDS = ((0.0, "free"), (500.0, "under ₹500"), (1500.0, "₹500–1,500"), (float("inf"), "over ₹1,500"))


def price_band(price: float) -> str:
    if price <= 0:
        return "free"
    return next(label for limit, label in PRICE_BANDS[1:] if price < limit)


def week_slot(starts_at: datetime) -> str:
    local = starts_at.astimezone(business_zone())
    return ("weekend" if local.weekday() >= 5 else "weekday") + (" evening" if local.hour >= 17 else " daytime")


@dataclass(frozen=True)
class Candidate:
    listing_id: str
    host_id: str
    title: str
    category: str
    city: str
    price: float
    capacity: int | None
    seats_left: int | None
    starts_at: datetime
    created_at: datetime | None
    views: int  # in the last 14 days
    requests: int

    @property
    def band(self) -> str:
        return price_band(self.price)

    @property
    def slot(self) -> str:
        return week_slot(self.starts_at)


def open_listings(now: datetime) -> list[Candidate]:
    rows = list(
        EventListing.objects.filter(starts_at__gt=now)
        .filter(Q(created_at__isnull=True) | Q(created_at__lte=now))
        .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gt=now))
        .values("listing_id", "host_id", "title", "category", "city", "price", "capacity", "starts_at", "created_at")
    )
    ids = [r["listing_id"] for r in rows]
    taken: Counter[str] = Counter()
    for request in requests_read(as_of=now, listing_ids=ids):
        if request.confirmed_by(now) and request.attendee_cancelled_at is None:
            taken[request.listing.listing_id] += request.seats
    interest = {
        r["listing_id"]: r
        for r in UserEvent.objects.filter(
            listing_id__in=ids,
            event_name__in=("event_viewed", "event_requested"),
            timestamp__gte=now - timedelta(days=POPULARITY_DAYS),
            timestamp__lt=now,
        )
        .values("listing_id")
        .annotate(
            views=Count("id", filter=Q(event_name="event_viewed")),
            requests=Count("id", filter=Q(event_name="event_requested")),
        )
        .order_by()
    }
    out = []
    for row in rows:
        capacity = row["capacity"]
        left = None if not capacity else capacity - taken[row["listing_id"]]
        if left is not None and left <= 0:
            continue  # full
        seen = interest.get(row["listing_id"], {})
        starts_at = row["starts_at"]
        assert starts_at is not None  # filtered on
        out.append(
            Candidate(
                listing_id=row["listing_id"],
                host_id=row["host_id"],
                title=row["title"],
                category=row["category"] or "uncategorised",
                city=row["city"] or "unknown",
                price=float(row["price"] or 0),
                capacity=capacity,
                seats_left=left,
                starts_at=starts_at,
                created_at=row["created_at"],
                views=int(seen.get("views") or 0),
                requests=int(seen.get("requests") or 0),
            )
        )
    return out
