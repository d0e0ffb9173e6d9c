"""The listings an insight compares: every listing that has started in the lookback and was not cancelled,
with its seats, the seats requested for it and how full that made it — read set-based (one read of the
listings, one grouped read of the daily rollup)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum

from analytics.metrics.periods import business_zone
from analytics.models import DailyEventRollup, EventListing
from analytics.models.listings import ListingStatus

LOOKBACK_DAYS = 180
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIME_BANDS = (("morning", 5, 12), ("afternoon", 12, 17), ("evening", 17, 21), ("night", 21, 29))


def time_band(hour: int) -> str:
    hour = hour if hour >= 5 else hour + 24
    return next(name for name, low, high in TIME_BANDS if low <= hour < high)


@dataclass(frozen=True)
class PastListing:
    listing_id: str
    host_id: str
    category: str
    city: str
    price: float
    capacity: int
    weekday: int  # 0 = Monday, in the business time zone
    band: str  # morning | afternoon | evening | night
    requests: int
    seats_requested: int

    @property
    def fill(self) -> float:
        """Share of the seats asked for (capped at 1): demand against supply for one listing."""
        return min(self.seats_requested, self.capacity) / self.capacity

    @property
    def seat_yield(self) -> float:
        """Ticket value asked for per seat offered (price × fill): what a seat brought, in demand."""
        return self.price * self.fill

    @property
    def sold_out(self) -> bool:
        return self.seats_requested >= self.capacity


def past_listings(now: datetime, *, days: int = LOOKBACK_DAYS, host_id: str | None = None) -> list[PastListing]:
    """Listings that started in the `days` before `now`, not cancelled, with a capacity."""
    listings = EventListing.objects.filter(
        starts_at__gte=now - timedelta(days=days),
        starts_at__lt=now,
        capacity__gt=0,
    ).exclude(status=ListingStatus.CANCELLED)
    if host_id is not None:
        listings = listings.filter(host_id=host_id)
    rows = list(listings.values("listing_id", "host_id", "category", "city", "price", "capacity", "starts_at"))
    if not rows:
        return []
    demand = {
        r["listing_id"]: (int(r["n"] or 0), int(r["s"] or 0))
        for r in DailyEventRollup.objects.filter(
            event_name="event_requested", listing_id__in=listings.values("listing_id")
        )
        .values("listing_id")
        .annotate(n=Sum("events"), s=Sum("seats"))
        .order_by()
    }
    zone = business_zone()
    out = []
    for row in rows:
        starts_at = row["starts_at"]
        assert starts_at is not None  # filtered on
        local = starts_at.astimezone(zone)
        requests, seats = demand.get(row["listing_id"], (0, 0))
        out.append(
            PastListing(
                listing_id=row["listing_id"],
                host_id=row["host_id"],
                category=row["category"] or "uncategorised",
                city=row["city"] or "unknown",
                price=float(row["price"] or 0),
                capacity=int(row["capacity"] or 0),
                weekday=local.weekday(),
                band=time_band(local.hour),
                requests=requests,
                seats_requested=seats,
            )
        )
    return out
