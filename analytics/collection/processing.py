"""Processing of newly stored tracked events (rows with `processed_at IS NULL`).

Each chunk is claimed, handed to every processing step, and marked processed in one transaction,
so a crash leaves the rows for the next run and a step's work is never half-applied. On
PostgreSQL rows are claimed with `FOR UPDATE SKIP LOCKED`, so concurrent workers never take the
same rows. Steps must be idempotent: a chunk may be seen again after a failure.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction

from analytics import clock
from analytics.collection.timing import parse_instant, TimeProblem
from analytics.models import EventListing, UserEvent
from analytics.models.listings import ListingStatus

logger = logging.getLogger(__name__)

LISTING_EVENTS = ("event_created", "event_updated", "event_cancelled")


@dataclass(frozen=True)
class PendingEvent:
    id: int
    event_name: str
    timestamp: datetime
    listing_id: str | None
    host_id: str | None
    properties: dict[str, Any]


Step = Callable[[Sequence[PendingEvent]], None]

_LISTING_FIELDS = ("host_id", "title", "category", "city", "venue_type", "currency")


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
    values: dict[str, Any] = {name: props.get(name) for name in _LISTING_FIELDS if isinstance(props.get(name), str)}
    if isinstance(props.get("capacity"), int) and not isinstance(props.get("capacity"), bool):
        values["capacity"] = props["capacity"]
    for key in ("price",):
        if key in props and _decimal(props[key]) is not None:
            values[key] = _decimal(props[key])
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
            [*_LISTING_FIELDS, "capacity", "price", "starts_at", "ends_at", "status", "created_at",
             "cancelled_at", "state_at", "attributes"],
            batch_size=500,
        )


# The processing steps, in order. Later capabilities (sentiment, sessions, rollup days, PostHog
# forwarding) register here.
STEPS: list[Step] = [update_listings]


def process_pending_events(*, chunk_size: int = 2000, max_chunks: int = 50) -> int:
    """Process up to `chunk_size * max_chunks` pending events; returns how many were processed."""
    processed = 0
    for _ in range(max_chunks):
        with transaction.atomic():
            queryset = UserEvent.objects.filter(processed_at__isnull=True).order_by("id")
            if connection.features.has_select_for_update_skip_locked:
                queryset = queryset.select_for_update(skip_locked=True, of=("self",))
            rows = [
                PendingEvent(*row)
                for row in queryset.values_list(
                    "id", "event_name", "timestamp", "listing_id", "host_id", "properties"
                )[:chunk_size]
            ]
            if not rows:
                break
            for step in STEPS:
                step(rows)
            UserEvent.objects.filter(id__in=[row.id for row in rows], processed_at__isnull=True).update(
                processed_at=clock.now()
            )
        processed += len(rows)
        if len(rows) < chunk_size:
            break
    if processed:
        logger.info("processing.events_processed count=%d", processed)
    return processed


def processing_backlog() -> tuple[int, datetime | None]:
    """(number of unprocessed events, when the oldest of them was received)."""
    pending = UserEvent.objects.filter(processed_at__isnull=True)
    oldest = pending.order_by("id").values_list("received_at", flat=True).first()
    return pending.count(), oldest
