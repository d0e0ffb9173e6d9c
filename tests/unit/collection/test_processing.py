"""Processing of stored events: processed_at, and the EventListing fold (late events never roll back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.collection.envelope import RequestContext
from analytics.collection.pipeline import event_ingest
from analytics.collection.processing import process_pending_events
from analytics.models import EventListing, UserEvent
from analytics.models.listings import ListingStatus
from tests.factories import event, listing_created, listing_event

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
T0 = NOW - timedelta(hours=3)
T1 = NOW - timedelta(hours=2)
T2 = NOW - timedelta(hours=1)


def ingest(*raws: dict[str, Any]) -> None:
    result = event_ingest(batch=list(raws), source="tracker", request=RequestContext(received_at=NOW))
    assert result.stored == len(raws), result.outcomes


def ingest_and_process(*raws: dict[str, Any]) -> None:
    ingest(*raws)
    process_pending_events()


@pytest.mark.django_db(transaction=True)  # the task closes connections, as it does after a real commit
def test_embedded_mode_processes_events_once_the_ingest_commits() -> None:
    ingest(event(), event())
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert UserEvent.objects.filter(processed_at__isnull=False).count() == 2


def test_event_tracked_over_http_is_processed_in_embedded_mode(client: TestClient, key_headers: dict[str, str]) -> None:
    response = client.post("/api/analytics/events/track", json=event(), headers=key_headers)
    assert response.json()["status"] == "stored"
    row = UserEvent.objects.get()
    assert row.processed_at is not None
    assert row.processed_at.utcoffset() == timedelta(0)


@pytest.mark.django_db
def test_processing_sets_processed_at_only_on_pending_rows_and_is_idempotent() -> None:
    ingest(event())
    assert process_pending_events() == 1
    first = UserEvent.objects.get().processed_at
    assert process_pending_events() == 0
    assert UserEvent.objects.get().processed_at == first


@pytest.mark.django_db
def test_event_created_creates_the_listing() -> None:
    ingest_and_process(listing_created(listing_id="L1", timestamp=T0, price=499, capacity=40))
    listing = EventListing.objects.get(listing_id="L1")
    assert listing.host_id == "host-1"
    assert (listing.title, listing.category, listing.city) == ("Rooftop jazz night", "music", "Bengaluru")
    assert listing.price == Decimal("499.00") and listing.currency == "INR" and listing.capacity == 40
    assert listing.starts_at == datetime(2026, 4, 1, 13, 30, tzinfo=UTC)
    assert listing.status == ListingStatus.ACTIVE
    assert listing.created_at == T0 and listing.state_at == T0


@pytest.mark.django_db
def test_event_updated_updates_the_listing() -> None:
    ingest_and_process(listing_created(listing_id="L1", timestamp=T0, price=499))
    ingest_and_process(listing_event("event_updated", listing_id="L1", timestamp=T1, price=799, title="Jazz, moved"))
    listing = EventListing.objects.get(listing_id="L1")
    assert listing.price == Decimal("799.00")
    assert listing.title == "Jazz, moved"
    assert listing.state_at == T1
    assert listing.created_at == T0


@pytest.mark.django_db
def test_event_cancelled_cancels_the_listing() -> None:
    ingest_and_process(listing_created(listing_id="L1", timestamp=T0))
    ingest_and_process(listing_event("event_cancelled", listing_id="L1", timestamp=T1))
    listing = EventListing.objects.get(listing_id="L1")
    assert listing.status == ListingStatus.CANCELLED
    assert listing.cancelled_at == T1


@pytest.mark.django_db
def test_late_update_does_not_roll_the_listing_back() -> None:
    ingest_and_process(
        listing_created(listing_id="L1", timestamp=T0, price=499),
        listing_event("event_updated", listing_id="L1", timestamp=T2, price=999),
    )
    # An older update arrives after the newer one was applied.
    ingest_and_process(listing_event("event_updated", listing_id="L1", timestamp=T1, price=599, venue_type="rooftop"))
    listing = EventListing.objects.get(listing_id="L1")
    assert listing.price == Decimal("999.00")
    assert listing.state_at == T2
    assert listing.venue_type == "rooftop"  # a late event may still fill a blank


@pytest.mark.django_db
def test_late_updates_in_one_chunk_are_applied_in_time_order() -> None:
    ingest_and_process(
        listing_event("event_updated", listing_id="L1", timestamp=T2, price=999),
        listing_created(listing_id="L1", timestamp=T0, price=499),
        listing_event("event_updated", listing_id="L1", timestamp=T1, price=599),
    )
    listing = EventListing.objects.get(listing_id="L1")
    assert listing.price == Decimal("999.00")
    assert listing.created_at == T0 and listing.state_at == T2


@pytest.mark.django_db
def test_late_event_created_fills_blanks_without_overwriting_newer_state() -> None:
    ingest_and_process(listing_event("event_updated", listing_id="L1", timestamp=T2, price=999))
    ingest_and_process(listing_created(listing_id="L1", timestamp=T0, price=499, city="Pune"))
    listing = EventListing.objects.get(listing_id="L1")
    assert listing.price == Decimal("999.00")
    assert listing.city == "Pune"
    assert listing.created_at == T0
    assert listing.state_at == T2


@pytest.mark.django_db
def test_late_update_after_cancellation_does_not_reactivate() -> None:
    ingest_and_process(
        listing_created(listing_id="L1", timestamp=T0),
        listing_event("event_cancelled", listing_id="L1", timestamp=T2),
    )
    ingest_and_process(listing_event("event_updated", listing_id="L1", timestamp=T1, price=1))
    listing = EventListing.objects.get(listing_id="L1")
    assert listing.status == ListingStatus.CANCELLED and listing.cancelled_at == T2
    assert listing.price == Decimal("499.00")
