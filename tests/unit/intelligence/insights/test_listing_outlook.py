"""Listing suggestions read the stored attendance forecast of the week's listings: on course to sell out, on
course to run under half full where the category fills twice as well, nothing beyond 7 days, and "not enough
data" where the category has too few past listings to compare with."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from analytics.intelligence.insights.listings import listing_outlook
from analytics.models import EventListing, ListingAttendanceForecast
from tests.unit.intelligence.insights.market import listing


def _upcoming(listing_id: str, now: datetime, *, days: float, category: str, low: float, high: float) -> None:
    starts = now + timedelta(days=days)
    EventListing.objects.create(
        listing_id=listing_id,
        host_id=f"host-of-{listing_id}",
        title=listing_id.replace("-", " ").title(),
        category=category,
        city="Pune",
        price=Decimal(500),
        capacity=20,
        starts_at=starts,
        state_at=now - timedelta(days=5),
    )
    ListingAttendanceForecast.objects.create(
        listing_id=listing_id,
        computed_at=now - timedelta(hours=1),
        lead_days=days,
        expected_attendance=(low + high) / 2,
        low=low,
        high=high,
        confirmed_seats=int(low),
        pending_seats=2,
        expected_further_requests=1.5,
        baseline=low,
        model_version=3,
    )


@pytest.mark.django_db
def test_the_weeks_listings_are_told_when_they_will_sell_out_or_run_under_half_full(frozen_now: datetime) -> None:
    for i in range(32):  # music filled 80% of its seats over the last months; art has 3 past listings
        listing(
            host=f"p{i % 4}",
            category="music",
            starts_at=frozen_now - timedelta(days=3 + 4 * i),
            capacity=10,
            seats_requested=8,
            requests=8,
        )
    for i in range(3):
        listing(
            host="p9",
            category="art",
            starts_at=frozen_now - timedelta(days=3 + i),
            capacity=10,
            seats_requested=2,
            requests=2,
        )
    _upcoming("sell-out", frozen_now, days=3, category="music", low=18.5, high=20)
    _upcoming("soon-empty", frozen_now, days=1, category="music", low=2, high=7)
    _upcoming("later-empty", frozen_now, days=5, category="music", low=2, high=7)
    # under half full, but music's 80% is not twice its 45%: nothing to say
    _upcoming("not-twice", frozen_now, days=1, category="music", low=5, high=9)
    _upcoming("far-empty", frozen_now, days=10, category="music", low=1, high=3)
    _upcoming("art-empty", frozen_now, days=2, category="art", low=1, high=3)

    findings = listing_outlook(frozen_now)
    found = {d.target_id: d for d in findings.drafts}
    assert set(found) == {"sell-out", "soon-empty", "later-empty"}
    sell_out = found["sell-out"]
    assert sell_out.evidence["aspect"] == "sell_out" and sell_out.priority == "medium"
    assert sell_out.title == "“Sell Out” is on course to sell out" and sell_out.host_id == "host-of-sell-out"
    assert sell_out.target_type == "listing" and sell_out.model_name == "attendance" and sell_out.model_version == "3"
    soon, later = found["soon-empty"], found["later-empty"]
    assert soon.evidence["aspect"] == "under_half" and soon.priority == "medium" and later.priority == "low"
    assert soon.evidence["category_fill"] == 0.8 and soon.evidence["comparison_size"] == 32
    assert "music listings filled 80% of their seats on average over the last 180 days (32 listings)" in (
        soon.description
    )
    [art] = findings.not_enough_data
    assert art.subject == "listing art-empty" and art.observations == 3
    assert art.message == "not enough data: 3 past art listings, at least 30 needed"
