"""The listing fold never wedges processing on values the listing table cannot hold."""

from __future__ import annotations

import pytest

from analytics.collection.pipeline import event_ingest
from analytics.collection.processing import process_pending_events
from analytics.models import EventListing, UserEvent
from tests.factories import listing_created

pytestmark = pytest.mark.django_db(transaction=True)


def test_listing_fold_cuts_values_the_listing_table_cannot_hold() -> None:
    raw = listing_created(
        listing_id="L-long",
        timestamp="2026-03-10T10:00:00+00:00",
        category="c" * 300,
        venue_type="v" * 300,
        title="t" * 1000,
        price=10**11,
    )
    assert event_ingest(batch=[raw], source="http").stored == 1
    process_pending_events()
    listing = EventListing.objects.get(listing_id="L-long")
    assert (len(listing.category), len(listing.venue_type), len(listing.title)) == (64, 64, 300)
    assert listing.price is None
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 0
