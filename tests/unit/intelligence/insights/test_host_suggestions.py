"""Host suggestions beyond time and seats, on hand-built marketplaces whose answer is known: the price band
that brings the most per seat offered (not the one that fills best), and the category a host's audience
goes to elsewhere."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from analytics.intelligence.insights.host_audience import asks_read, audience_suggestion
from analytics.intelligence.insights.hosts import host_findings
from analytics.intelligence.insights.listings_frame import past_listings
from analytics.models import UserEvent
from tests.unit.intelligence.insights.market import listing, local

FRIDAY = 4


def _food_prices(now: datetime) -> None:
    """Food listings over the last 26 weeks: at ₹1,000 they fill ~80% (₹800 a seat), at ₹300 every seat goes
    (₹300 a seat). Host h-cheap holds theirs at ₹300, host h-mid at ₹1,000."""
    for i in range(35):
        listing(
            host=f"peer{i % 5}",
            category="food",
            starts_at=local(now, days_ago=2 + 5 * i, weekday=FRIDAY, hour=20),
            capacity=10,
            seats_requested=7 + i % 3,
            requests=6,
            price=1000,
        )
        listing(
            host=f"peer{5 + i % 5}",
            category="food",
            starts_at=local(now, days_ago=3 + 5 * i, weekday=FRIDAY, hour=20),
            capacity=10,
            seats_requested=10 + i % 4,
            requests=8,
            price=300,
        )
    for host, price in (("h-cheap", 300), ("h-mid", 1000)):
        for weeks in range(3):
            listing(
                host=host,
                category="food",
                starts_at=local(now, days_ago=4 + 7 * weeks, weekday=FRIDAY, hour=20),
                capacity=10,
                seats_requested=9,
                requests=12,
                price=price,
            )


@pytest.mark.django_db
def test_a_host_is_told_the_price_band_that_brings_most_per_seat_not_the_one_that_fills(frozen_now: datetime) -> None:
    _food_prices(frozen_now)
    found = {d.host_id: d for d in host_findings(frozen_now).drafts if d.evidence["aspect"] == "price_band"}
    assert "h-mid" not in found  # already in the best band
    draft = found["h-cheap"]
    evidence = draft.evidence
    assert evidence["price_band"] == "₹500–1,500" and evidence["host_share_in_band"] == 0.0
    assert evidence["group_size"] == 38 and evidence["comparison_size"] == 38  # h-mid and h-cheap count as peers
    # ₹1,000 × 7–9 of 10 seats (h-mid: 9) against ₹300 × every seat (h-cheap: 9 of 10)
    assert evidence["group_fill"] == 805.263 and evidence["comparison_fill"] == 297.632 and evidence["z"] > 1.96
    assert draft.title == "Try pricing your next food listing at ₹500–1,500"
    assert "₹805 of tickets per seat offered (38 listings)" in draft.description
    assert draft.target_type == "host" and draft.target_id == "h-cheap" and draft.priority == "medium"


def _asked(user: str, listing_id: str, at: datetime) -> UserEvent:
    return UserEvent(
        uuid=uuid.uuid4(),
        payload_hash="x",
        event_type="user_action",
        event_name="event_requested",
        user_id=user,
        listing_id=listing_id,
        timestamp=at,
        received_at=at,
        source="http",
    )


@pytest.mark.django_db
def test_a_host_is_told_the_category_its_audience_goes_to_elsewhere_by_mix_not_by_activity(
    frozen_now: datetime,
) -> None:
    """40 people asked to join h-music's music nights; 30 of them also a food listing by h-food. Of 100 other
    people in Pune, o0–o9 asked for food, art and music, o10–o19 tech and art, o20–o99 tech only — and the
    busy ones, b0–b39, asked for everything (each of food, tech, art and wellness): more of them asked for food
    than h-music's audience did, yet food is a quarter of their outings. Host h-small's audience is 20 people
    (s0–s19), every one of whom also asked for wellness: a strong lean, but too few people to tell."""
    at = frozen_now - timedelta(days=10)

    def held(host: str, category: str, n: int) -> list[str]:
        return [
            listing(host=host, category=category, starts_at=at, capacity=50, seats_requested=20, requests=20)
            for _ in range(n)
        ]

    music, food, tech = held("h-music", "music", 3), held("h-food", "food", 2), held("h-tech", "tech", 2)
    small, art, wellness = held("h-small", "art", 2), held("h-art", "art", 1), held("h-well", "wellness", 1)
    jazz = held("h-jazz", "music", 1)
    events = [_asked(f"a{i}", music[i % 3], at) for i in range(40)]
    events += [_asked(f"a{i}", food[0], at) for i in range(30)]
    events += [_asked(f"o{i}", food[1] if i < 10 else tech[i % 2], at) for i in range(100)]
    events += [_asked(f"o{i}", art[0], at) for i in range(20)]
    events += [_asked(f"s{i}", x, at) for i in range(20) for x in (small[i % 2], wellness[0])]
    events += [_asked(f"o{i}", jazz[0], at) for i in range(10)]  # music: h-music's own kind, not counted
    for i in range(40):
        events += [_asked(f"b{i}", x, at) for x in (food[1], tech[0], art[0], wellness[0])]
    UserEvent.objects.bulk_create(events)

    found = {d.host_id: d for d in host_findings(frozen_now).drafts if d.evidence["aspect"] == "audience_category"}
    draft = found["h-music"]
    evidence = draft.evidence
    assert evidence["category"] == "food" and evidence["host_main_category"] == "music"
    assert evidence["city"] == "Pune" and evidence["audience"] == 30  # the ten with no other ask say nothing
    # others: o0–o9 half food, b0–b39 a quarter food, the other 110 none — (10 × 0.5 + 40 × 0.25) / 160
    assert evidence["comparison_size"] == 160 and evidence["comparison_share"] == round(15 / 160, 3)
    assert evidence["audience_share"] == 1.0 and evidence["z"] > 1.96
    assert draft.title == "Your audience's other outings lean to food: 100% against 9%"
    # A category the host already holds (here 1 of 4 listings, over 10%) is theirs: nothing to suggest.
    own = [x for x in past_listings(frozen_now) if x.host_id == "h-music"]
    assert audience_suggestion("h-music", [*own, replace(own[0], category="food")], asks_read(frozen_now)) is None
    assert "h-small" not in found  # 20 people asked to join theirs: under 30
