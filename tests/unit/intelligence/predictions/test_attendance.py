"""Attendance end to end on the package's simulated platform: the seat model trained through the registry
on the past, features that never look past a seat's confirmation, forecasts stored for every upcoming
listing, and the documented `predict_event_attendance`. Quality: `make eval` (docs/evaluation.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from analytics import clock
from analytics.ai_services import PredictiveAnalyticsService
from analytics.errors import NotFound
from analytics.intelligence.attendance.model import FEATURES, attendance_split, seat_vector
from analytics.intelligence.attendance.seats import requests_known_at, requests_read, with_history
from analytics.intelligence.registry import model_active, model_active_estimator
from analytics.models import EventListing, ListingAttendanceForecast

pytestmark = pytest.mark.django_db


def test_the_seat_model_is_trained_on_listings_held_before_the_evaluation_month(platform: dict[str, Any]) -> None:
    assert platform["outcomes"]["attendance"]["status"] == "active", platform["outcomes"]
    row = model_active("attendance")
    assert row is not None and row.features == list(FEATURES)
    assert row.evaluated_on == row.training_end == platform["end"] - timedelta(days=30)
    assert row.evaluation["rows"] >= 50 and 0.5 < row.evaluation["auc"] <= 1.0
    assert row.evaluation["baseline_auc"] is not None
    estimator = model_active_estimator("attendance")[1]  # type: ignore[index]
    assert 1.0 <= estimator.curve.spread <= 4.0 and len(estimator.curve.buckets) == 10
    assert 0 < estimator.free_rate < estimator.paid_rate < 1  # free seats go unused more often


def test_a_seats_features_are_what_was_known_when_it_was_confirmed(platform: dict[str, Any]) -> None:
    """The same seat gets the same features whether the platform is read at the end or just after the seat
    was confirmed: nothing that happened later (its outcome included) enters them."""
    split = attendance_split(as_of=platform["end"])
    later = {r.key: seat_vector(r) for r in split.evaluation[:40]}
    assert later
    for request in split.evaluation[:40]:
        then = request.confirmed_at + timedelta(seconds=1)  # type: ignore[operator]
        platform_then = requests_read(as_of=then)
        twin = next(r for r in platform_then if r.key == request.key)
        with_history(platform_then, as_of=then, targets=[twin])
        np.testing.assert_allclose(
            np.nan_to_num(seat_vector(twin), nan=-1),
            np.nan_to_num(later[request.key], nan=-1),
            err_msg=str(request.key),
        )


def test_requests_known_at_an_earlier_instant_equal_a_read_at_that_instant(platform: dict[str, Any]) -> None:
    """The calibration derives each earlier instant's requests from one wider read. Catches: an outcome
    that happened after the instant (a later payment, decline, cancellation or check-in) leaking into it,
    or a request made in the lookback missing."""
    end = platform["end"]
    wider = requests_read(as_of=end, lookback_days=300)
    for days in (15, 40, 60):
        then = end - timedelta(days=days)

        def facts(requests: list[Any]) -> list[tuple[Any, ...]]:
            return sorted(
                (r.key, r.requested_at, r.confirmed_at, r.declined_at, r.attendee_cancelled_at, r.checked_in_at)
                for r in requests
            )

        read_then = requests_read(as_of=then)
        assert len(read_then) > 50
        assert facts(requests_known_at(wider, as_of=then)) == facts(read_then)


def test_every_upcoming_listing_gets_a_stored_forecast_with_an_interval(platform: dict[str, Any]) -> None:
    upcoming = set(
        EventListing.objects.filter(starts_at__gt=platform["end"], cancelled_at__isnull=True).values_list(
            "listing_id", flat=True
        )
    )
    stored = {row.listing_id: row for row in ListingAttendanceForecast.objects.all()}
    assert upcoming and set(stored) == upcoming
    assert platform["scoring"]["listings"] == len(upcoming)
    for listing_id, row in stored.items():
        capacity = EventListing.objects.get(listing_id=listing_id).capacity or 10_000
        assert 0 <= row.low <= row.expected_attendance <= row.high <= capacity, listing_id
        assert row.confirmed_seats <= capacity and row.model_version == model_active("attendance").version  # type: ignore[union-attr]


def test_predict_event_attendance_for_a_held_seat_and_for_someone_who_has_not_asked(platform: dict[str, Any]) -> None:
    service = PredictiveAnalyticsService()
    end = platform["end"]
    split = attendance_split(as_of=end)
    upcoming = [r for r in split.requests if r.listing.starts_at > end and r.confirmed_by(end)]
    assert upcoming
    seat = upcoming[0]
    clock.freeze(end)
    try:
        held = service.predict_event_attendance(seat.user_id, seat.listing.listing_id)
        stranger = next(r.user_id for r in split.requests if r.listing.listing_id != seat.listing.listing_id)
        asked = service.predict_event_attendance(stranger, seat.listing.listing_id)
        with pytest.raises(NotFound):
            service.predict_event_attendance(seat.user_id, "no-such-listing")
        with pytest.raises(NotFound):
            service.predict_event_attendance("no-such-user", seat.listing.listing_id)
    finally:
        clock.freeze(None)
    assert held["status"] == "ok" and held["hypothetical"] is False
    assert 0 < held["probability"] < 1 and held["confidence"] == pytest.approx(
        max(held["probability"], 1 - held["probability"]), abs=1e-4
    )
    assert {f["factor"] for f in held["factors"]} >= {"paid listing", "days until the start"}
    assert asked["status"] == "ok" and asked["hypothetical"] is True and 0 < asked["probability"] < 1
