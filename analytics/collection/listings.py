"""Listings kept current from event_created / event_updated / event_cancelled (a processing step)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from analytics.collection.pending import PendingEvent
from analytics.collection.timing import TimeProblem, parse_instant
from analytics.models import EventListing
from analytics.models.listings import ListingStatus

LISTING_EVENTS = ("event_created", "event_updated", "event_cancelled")


_LISTING_FIELDS = ("host_id", "title", "category", "city", "venue_type", "currency")
_MAX_LENGTH = {name: getattr(EventListing._meta.get_field(name), "max_length", 0) or 0 for name in _LISTING_FIELDS}
_MAX_PRICE = Decimal(10) ** 10  # DecimalField(max_digits=12, decimal_places=2)
_MAX_CAPACITY = 2_147_483_647


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _instant(value: Any) -> datetime | None:
    try:
        return parse_instant("value", value) if value is not None else None
    except TimeProblem:
        return None


def _apply(listing: EventListing, event: PendingEvent) -> None:
    """Fold one listing event into the listing. Older-than-state events only fill blanks."""
    newer = event.timestamp >= listing.state_at
    props = event.properties
    # Values are cut to the columns' sizes: the tracking plan admits longer strings and larger
    # prices than the listing table holds, and one such event must not wedge processing.
    values: dict[str, Any] = {
        name: props[name][: _MAX_LENGTH[name]] for name in _LISTING_FIELDS if isinstance(props.get(name), str)
    }
    capacity = props.get("capacity")
    if isinstance(capacity, int) and not isinstance(capacity, bool) and 0 <= capacity <= _MAX_CAPACITY:
        values["capacity"] = capacity
    price = _decimal(props.get("price"))
    if price is not None and abs(price) < _MAX_PRICE:
        values["price"] = price
    for key in ("starts_at", "ends_at"):
        if _instant(props.get(key)) is not None:
            values[key] = _instant(props[key])
    for name, value in values.items():
        if newer or getattr(listing, name) in ("", None):
            setattr(listing, name, value)
    if event.event_name == "event_created" and (listing.created_at is None or event.timestamp < listing.created_at):
        listing.created_at = event.timestamp
    if event.event_name == "event_cancelled":
        listing.status = ListingStatus.CANCELLED
        if listing.cancelled_at is None or event.timestamp < listing.cancelled_at:
            listing.cancelled_at = event.timestamp
    if newer:
        listing.state_at = event.timestamp
        extra = {k: v for k, v in props.items() if k not in values and k != "listing_id"}
        listing.attributes = {**listing.attributes, **extra}


def update_listings(events: Sequence[PendingEvent]) -> None:
    """Keep `EventListing` current from event_created / event_updated / event_cancelled."""
    by_listing: dict[str, list[PendingEvent]] = defaultdict(list)
    for event in events:
        if event.event_name in LISTING_EVENTS and event.listing_id:
            by_listing[event.listing_id].append(event)
    if not by_listing:
        return
    existing = {row.listing_id: row for row in EventListing.objects.filter(listing_id__in=list(by_listing))}
    created: list[EventListing] = []
    for listing_id, listing_events in by_listing.items():
        listing_events.sort(key=lambda e: (e.timestamp, e.id))
        listing = existing.get(listing_id)
        if listing is None:
            listing = EventListing(listing_id=listing_id, state_at=listing_events[0].timestamp, attributes={})
            created.append(listing)
        for event in listing_events:
            _apply(listing, event)
    EventListing.objects.bulk_create(created, batch_size=500)
    if existing:
        EventListing.objects.bulk_update(
            list(existing.values()),
            [
                *_LISTING_FIELDS,
                "capacity",
                "price",
                "starts_at",
                "ends_at",
                "status",
                "created_at",
                "cancelled_at",
                "state_at",
                "attributes",
            ],
            batch_size=500,
        )
