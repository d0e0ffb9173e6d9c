"""The listings a person may be recommended at an instant: created before it, starting after it, not cancelled
by then, and not full (confirmed seats, as the attendance model counts them, below the capacity) — with how
much interest each drew in the last 14 days (views and requests), read set-based.

Serving (`open_listings_now`) reads that pool once a minute per process, not once a person: at 100,000
users the read (every upcoming listing, its requests and its fortnight of views) costs far more than
ranking one person. Between reads, a listing that has started since drops out at once; one that filled or
was cancelled within the minute can still be recommended until the next read — asking to join it is where
the marketplace itself says it is full (docs/recommendations.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q

from analytics.intelligence.attendance.seats import requests_read
from analytics.metrics.periods import business_zone
from analytics.models import EventListing, UserEvent

POPULARITY_DAYS = 14
POOL_SECONDS = 60.0  # how long a process serves one read of the pool
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
    band: str = field(init=False)  # derived once: a candidate is ranked for many people
    slot: str = field(init=False)
    popularity: float = field(init=False)  # log(1 + 3·requests + views in 14 days)

    def __post_init__(self) -> None:
        object.__setattr__(self, "band", price_band(self.price))
        object.__setattr__(self, "slot", week_slot(self.starts_at))
        object.__setattr__(self, "popularity", math.log1p(3 * self.requests + self.views))


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


@dataclass(frozen=True)
class _Pool:
    as_of: datetime  # the business clock's instant it was read at
    read_at: float  # time.monotonic() of the read
    candidates: tuple[Candidate, ...]


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def open_listings_now(now: datetime) -> list[Candidate]:
    """`open_listings(now)` for serving: the pool read at most POOL_SECONDS ago (by both the process's clock
    and the business clock), less the listings that have started since."""
    global _pool
    with _pool_lock:
        pool = _pool
        fresh = (
            pool is not None
            and time.monotonic() - pool.read_at <= POOL_SECONDS
            and timedelta(0) <= now - pool.as_of <= timedelta(seconds=POOL_SECONDS)
        )
        if not fresh:
            pool = _Pool(now, time.monotonic(), tuple(open_listings(now)))
            _pool = pool
    assert pool is not None
    return [c for c in pool.candidates if c.starts_at > now]


def open_listings_forget() -> None:
    """Drop the serving pool: the next request reads it again (tests; a process that knows the data changed)."""
    global _pool
    with _pool_lock:
        _pool = None
