"""What a person has shown they like, read set-based for many people at once: their listing views, requests
and check-ins of the last 180 days, weighted (a check-in says more than a request, a request more than a
view) by the listing's category, city, host, price band and time of week; the categories they searched for
(a search says what kind of outing they are after, before any listing does — the one taste signal a
newcomer has); the listings they ever asked to join (never recommended again); and the city they use the app
from (for someone with no listing history)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count

from analytics.intelligence.recommendations.candidates import price_band, week_slot
from analytics.models import EventListing, UserEvent

LOOKBACK_DAYS = 180
WEIGHTS = {"event_viewed": 1, "event_requested": 4, "event_checked_in": 6}
SEARCH = "search_performed"
SEARCH_WEIGHT = 2  # on the category searched for
_CHUNK = 1000


@dataclass
class Taste:
    user_id: str
    category: Counter[str] = field(default_factory=Counter)
    city: Counter[str] = field(default_factory=Counter)
    host: Counter[str] = field(default_factory=Counter)
    band: Counter[str] = field(default_factory=Counter)
    slot: Counter[str] = field(default_factory=Counter)
    # plain counts, for the reasons: (event name, category) and (event name, category, city)
    counts: Counter[tuple[str, ...]] = field(default_factory=Counter)
    host_visits: Counter[str] = field(default_factory=Counter)  # check-ins per host
    requested: set[str] = field(default_factory=set)  # ever asked to join: never recommended
    home_city: str | None = None
    interactions: Counter[str] = field(default_factory=Counter)  # listing → weight (collaborative signals)

    @property
    def weight(self) -> float:
        return float(sum(self.category.values()))

    @property
    def cold(self) -> bool:
        """No listing history (searches alone do not make a history)."""
        return not self.interactions

    @property
    def seen(self) -> bool:
        """Anything at all was read about the person (then they exist)."""
        return bool(self.interactions or self.requested or self.counts or self.home_city)

    @property
    def searched(self) -> bool:
        return any(key[0] == SEARCH for key in self.counts)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def tastes_read(user_ids: Iterable[str], *, now: datetime) -> dict[str, Taste]:
    users = sorted(set(user_ids))
    tastes = {u: Taste(u) for u in users}
    start = now - timedelta(days=LOOKBACK_DAYS)
    rows: list[tuple[str, str, str]] = []
    for chunk in _chunks(users):
        # One read of the person's listing events (all time: a request ever made is never recommended again)
        # and searches; the 180-day window is applied here.
        events = UserEvent.objects.filter(
            user_id__in=chunk, event_name__in=(*WEIGHTS, SEARCH), timestamp__lt=now
        ).values_list("user_id", "event_name", "listing_id", "timestamp", "properties__category")
        for user, name, listing_id, at, searched in events:
            taste = tastes[str(user)]
            if name == SEARCH:
                if at >= start and isinstance(searched, str) and searched:
                    taste.category[searched] += SEARCH_WEIGHT
                    taste.counts[SEARCH, searched] += 1
                continue
            if listing_id is None:
                continue
            if name == "event_requested":
                taste.requested.add(str(listing_id))
            if at >= start:
                rows.append((str(user), str(listing_id), name))
        cities = (
            UserEvent.objects.filter(user_id__in=chunk, timestamp__gte=start, timestamp__lt=now)
            .exclude(city="")
            .values("user_id", "city")
            .annotate(n=Count("id"))
            .order_by("user_id", "-n", "city")
        )
        for row in cities:
            taste = tastes[row["user_id"]]
            if taste.home_city is None:
                taste.home_city = row["city"]
    listings: dict[str, Any] = {
        str(row["listing_id"]): row
        for ids in _chunks(sorted({listing_id for _, listing_id, _ in rows}))
        for row in EventListing.objects.filter(listing_id__in=ids).values(
            "listing_id", "host_id", "category", "city", "price", "starts_at"
        )
    }
    for user, listing_id, name in rows:
        listing = listings.get(listing_id)
        if listing is None:
            continue
        taste, weight = tastes[user], WEIGHTS[name]
        category, city = listing["category"] or "uncategorised", listing["city"] or "unknown"
        taste.category[category] += weight
        taste.city[city] += weight
        taste.host[listing["host_id"]] += weight
        taste.band[price_band(float(listing["price"] or 0))] += weight
        if listing["starts_at"] is not None:
            taste.slot[week_slot(listing["starts_at"])] += weight
        taste.counts[name, category] += 1
        taste.counts[name, category, city] += 1
        if name == "event_checked_in":
            taste.host_visits[listing["host_id"]] += 1
        taste.interactions[listing_id] += weight
    return tastes
