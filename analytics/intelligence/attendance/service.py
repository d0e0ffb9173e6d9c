"""Attendance: the forecasts of upcoming listings (stored for the API) and one person's probability of
showing up (the documented `PredictiveAnalyticsService().predict_event_attendance`)."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analytics import clock
from analytics.errors import NotFound
from analytics.intelligence.attendance.forecast import listing_forecast
from analytics.intelligence.attendance.model import (
    ATTENDANCE,
    FEATURES,
    AttendanceModel,
    listings_with_requests,
    seat_vector,
)
from analytics.intelligence.attendance.seats import Request, listings_read, requests_read, with_history
from analytics.intelligence.registry import model_active, model_active_estimator
from analytics.metrics.hosts import listing_access
from analytics.models import EventListing, ListingAttendanceForecast, UserEvent
from analytics.security.roles import Principal

logger = logging.getLogger("analytics.predictions")


def _active() -> tuple[int, AttendanceModel] | None:
    active = model_active_estimator(ATTENDANCE.name)
    if active is None or not isinstance(active[1], AttendanceModel):
        return None
    return active[0].version, active[1]


@dataclass(frozen=True)
class ForecastRun:
    listings: int
    model_version: int | None


def listing_forecasts_refresh(*, as_of: datetime | None = None) -> ForecastRun:
    """Forecast every upcoming listing (published, not cancelled, starting after `as_of`) with the active
    attendance model and store it; a no-op until a model is active."""
    now = as_of or clock.now()
    active = _active()
    if active is None:
        return ForecastRun(0, None)
    version, model = active
    upcoming = list(
        EventListing.objects.filter(starts_at__gt=now, cancelled_at__isnull=True, status="active").values_list(
            "listing_id", flat=True
        )
    )
    listings, by_listing, probabilities = listings_with_requests(model, upcoming, at=now)
    rows = []
    for listing_id, listing in listings.items():
        forecast = listing_forecast(
            listing,
            by_listing.get(listing_id, []),
            as_of=now,
            model=model,
            curve=model.curve,
            probabilities=probabilities,
        )
        rows.append(
            ListingAttendanceForecast(
                listing_id=listing_id,
                computed_at=now,
                lead_days=round(forecast.lead_days, 3),
                expected_attendance=round(forecast.expected_attendance, 3),
                low=forecast.low,
                high=forecast.high,
                confirmed_seats=forecast.confirmed_seats,
                pending_seats=forecast.pending_seats,
                expected_further_requests=round(forecast.expected_further_requests, 3),
                baseline=round(forecast.baseline, 3),
                model_version=version,
            )
        )
    ListingAttendanceForecast.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["listing_id"],
        update_fields=[
            "computed_at",
            "lead_days",
            "expected_attendance",
            "low",
            "high",
            "confirmed_seats",
            "pending_seats",
            "expected_further_requests",
            "baseline",
            "model_version",
        ],
    )
    logger.info("predictions.listings_forecast listings=%d version=%d", len(rows), version)
    return ForecastRun(len(rows), version)


def listing_forecast_get(*, caller: Principal, listing_id: str) -> dict[str, Any]:
    """The forecast of one listing for the API: a host only for its own listings (another's → 404)."""
    return listing_forecast_of(listing_access(caller=caller, listing_id=listing_id))


def listing_forecast_of(listing: EventListing) -> dict[str, Any]:
    """The forecast of a listing the caller may see (`listing_access`)."""
    listing_id = listing.listing_id
    now = clock.now()
    base: dict[str, Any] = {
        "listing_id": listing_id,
        "host_id": listing.host_id,
        "starts_at": listing.starts_at,
        "capacity": listing.capacity,
        "as_of": now,
        "forecast": None,
        "actual_attendance": None,
    }
    if listing.cancelled_at is not None or listing.status == "cancelled":
        return {**base, "status": "cancelled", "message": "the listing was cancelled: nobody will attend"}
    if listing.starts_at is None:
        return {**base, "status": "no_start_time", "message": "the listing has no start time to forecast for"}
    if listing.starts_at <= now:
        seats = 0
        for properties in UserEvent.objects.filter(listing_id=listing_id, event_name="event_checked_in").values_list(
            "properties", flat=True
        ):
            seats += int(properties.get("seats") or 1) if isinstance(properties, dict) else 1
        return {
            **base,
            "status": "past",
            "actual_attendance": seats,
            "message": "the listing has taken place: this is its actual attendance (seats checked in), not a forecast",
        }
    stored = ListingAttendanceForecast.objects.filter(listing_id=listing_id).first()
    if stored is None:
        if model_active(ATTENDANCE.name) is None:
            return {
                **base,
                "status": "not_enough_data",
                "message": f"no attendance model yet: it needs {ATTENDANCE.minimum_data}",
            }
        # Forecasts are made by the scoring run after each hourly metrics run, never on a request.
        return {**base, "status": "pending", "message": "not forecast yet: the next scoring run (hourly) will"}
    return {
        **base,
        "status": "ok",
        "forecast": {
            "expected_attendance": stored.expected_attendance,
            "interval": {"level": 0.8, "low": stored.low, "high": stored.high},
            "confirmed_seats": stored.confirmed_seats,
            "pending_seats": stored.pending_seats,
            "expected_further_requests": stored.expected_further_requests,
            "baseline": stored.baseline,
            "lead_days": stored.lead_days,
            "computed_at": stored.computed_at,
            "model_version": stored.model_version,
        },
    }


_FACTOR_NAMES = {
    "paid": "paid listing",
    "lead_days": "days until the start",
    "user_show_rate": "this person's show-up record",
    "host_show_rate": "this host's show-up record",
    "category_view_share": "interest in the category",
    "session_trend": "recent activity against usual",
    "weekend_start": "weekend start",
}


def event_attendance_predict(*, user_id: str, listing_id: str) -> dict[str, Any]:
    """P(the person checks in to the listing): of their seat, or — if they have not requested it — of a seat
    confirmed now (`hypothetical: true`). `confidence` is the probability of the likelier outcome
    (max(p, 1 − p)); `factors` are the model's inputs that matter most for attendance, with their values."""
    listing_map = listings_read([listing_id])
    listing = listing_map.get(listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id!r}", code="listing_not_found")
    if not UserEvent.objects.filter(user_id=user_id).exists():
        raise NotFound(f"no user {user_id!r}", code="user_not_found")
    active = _active()
    if active is None:
        return {
            "user_id": user_id,
            "listing_id": listing_id,
            "status": "not_enough_data",
            "probability": None,
            "confidence": None,
            "factors": [],
            "message": f"no attendance model yet: it needs {ATTENDANCE.minimum_data}",
        }
    version, model = active
    now = clock.now()
    platform = requests_read(as_of=now)
    own = next((r for r in platform if r.key == (user_id, listing_id)), None)
    hypothetical = own is None
    if own is None:
        own = Request(user_id=user_id, listing=listing, requested_at=now, seats=1)
    seat = copy.copy(own)
    if not seat.confirmed_by(now):
        seat.confirmed_at = now
    seat.history = {}
    with_history(platform, as_of=now, extra=[seat], targets=[])
    probability = float(model.predict_seats([seat])[0])
    vector = dict(zip(FEATURES, seat_vector(seat), strict=True))
    factors = [
        {"factor": _FACTOR_NAMES[name], "value": round(vector[name], 3)}
        for name in _FACTOR_NAMES
        if name in vector and vector[name] == vector[name]
    ]
    return {
        "user_id": user_id,
        "listing_id": listing_id,
        "status": "ok",
        "probability": round(probability, 4),
        "confidence": round(max(probability, 1.0 - probability), 4),
        "hypothetical": hypothetical,
        "factors": factors,
        "model_version": version,
    }
