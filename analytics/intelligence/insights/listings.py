"""Listing suggestions (`listing_outlook`): what the attendance forecast says about a listing in its last week
before it starts, read as something its host can act on.

- **On course to sell out**: the 10th percentile of the forecast's seats checked in is at least 90% of the
  seats — open a waitlist, add seats or a second date. Priority medium.
- **On course to run under half full**: the 90th percentile is under half the seats while the listing's
  category filled at least twice as well over the last 180 days (at least 30 past listings) — promote it
  now. Priority medium within 2 days of the start, low before.

Only listings starting in the next 7 days with a stored forecast (the scoring task's) and a capacity are
read; the figures cited are the forecast's, its model version the attendance model's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS, Findings, InsightDraft, NotEnoughData
from analytics.intelligence.insights.listings_frame import past_listings
from analytics.models import EventListing, ListingAttendanceForecast

INSIGHT_TYPE = "listing_outlook"
WINDOW_DAYS = 7
URGENT_DAYS = 2
FULL = 0.9
UNDER = 0.5


def listing_outlook(now: datetime) -> Findings:
    findings = Findings()
    listings: dict[str, dict[str, Any]] = {
        row["listing_id"]: dict(row)
        for row in EventListing.objects.filter(
            starts_at__gt=now, starts_at__lte=now + timedelta(days=WINDOW_DAYS), capacity__gt=0
        )
        .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gt=now))
        .values("listing_id", "host_id", "title", "category", "capacity", "starts_at")
    }
    forecasts = ListingAttendanceForecast.objects.filter(listing_id__in=list(listings))
    fills: dict[str, list[float]] = defaultdict(list)
    for past in past_listings(now):
        fills[past.category].append(past.fill)
    for forecast in forecasts:
        listing = listings[forecast.listing_id]
        draft = _suggestion(now, listing, forecast, fills.get(listing["category"] or "uncategorised", []))
        if isinstance(draft, NotEnoughData):
            findings.not_enough_data.append(draft)
        elif draft is not None:
            findings.drafts.append(draft)
    return findings


def _suggestion(
    now: datetime, listing: dict[str, Any], forecast: ListingAttendanceForecast, category_fills: list[float]
) -> InsightDraft | NotEnoughData | None:
    capacity = int(listing["capacity"])
    category = listing["category"] or "uncategorised"
    days_left = (listing["starts_at"] - now).total_seconds() / 86_400
    figures: dict[str, Any] = {
        "capacity": capacity,
        "expected_attendance": round(forecast.expected_attendance, 1),
        "low": round(forecast.low, 1),
        "high": round(forecast.high, 1),
        "confirmed_seats": forecast.confirmed_seats,
        "pending_seats": forecast.pending_seats,
        "days_to_start": round(days_left, 1),
        "forecast_computed_at": forecast.computed_at.isoformat(),
    }
    common: dict[str, Any] = {
        "insight_type": INSIGHT_TYPE,
        "target_type": "listing",
        "target_id": listing["listing_id"],
        "host_id": listing["host_id"] or "",
        "model_name": "attendance",
        "model_version": str(forecast.model_version),
    }
    title = listing["title"] or listing["listing_id"]
    if forecast.low >= FULL * capacity:
        return InsightDraft(
            dedup_key=f"{INSIGHT_TYPE}:sell_out:{listing['listing_id']}",
            title=f"“{title}” is on course to sell out",
            description=(
                f"The attendance forecast expects {forecast.expected_attendance:.0f} of its {capacity} seats used "
                f"(80% interval {forecast.low:.0f}–{forecast.high:.0f}), {days_left:.1f} days before it starts; "
                f"{forecast.confirmed_seats} seats are confirmed and {forecast.pending_seats} pending."
            ),
            confidence=0.9,  # the 10th percentile is at the seats: 90% of the forecast's outcomes are above it
            priority="medium",
            suggested_actions=["Open a waitlist", "Add seats or a second date"],
            evidence={**figures, "aspect": "sell_out", "comparison_group": "the listing's seats"},
            **common,
        )
    if forecast.high >= UNDER * capacity:
        return None
    if len(category_fills) < MIN_OBSERVATIONS:
        subject, unit = f"listing {listing['listing_id']}", f"past {category} listings"
        return NotEnoughData(INSIGHT_TYPE, subject, len(category_fills), unit=unit)
    typical = sum(category_fills) / len(category_fills)
    if typical < 2 * forecast.high / capacity:
        return None
    return InsightDraft(
        dedup_key=f"{INSIGHT_TYPE}:under_half:{listing['listing_id']}",
        title=f"“{title}” is on course to run under half full",
        description=(
            f"The attendance forecast expects {forecast.expected_attendance:.0f} of its {capacity} seats used "
            f"(80% interval {forecast.low:.0f}–{forecast.high:.0f}), {days_left:.1f} days before it starts; "
            f"{category} listings filled {100 * typical:.0f}% of their seats on average over the last 180 days "
            f"({len(category_fills)} listings)."
        ),
        confidence=0.9,  # the 90th percentile is under half the seats
        priority="medium" if days_left <= URGENT_DAYS else "low",
        suggested_actions=["Share the listing with past attendees and followers", "Feature it in the app this week"],
        evidence={
            **figures,
            "aspect": "under_half",
            "category": category,
            "category_fill": round(typical, 3),
            "comparison_size": len(category_fills),
            "comparison_group": f"{category} listings of the last 180 days",
        },
        **common,
    )
