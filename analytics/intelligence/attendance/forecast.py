"""How many people will really come to an upcoming listing: expected attendance with an 80% interval.

At an instant T, for a listing starting after T:

- each **confirmed seat** is used with its calibrated probability (`AttendanceModel`);
- each **pending request** (not declined, not yet accepted or paid) is confirmed with the platform's
  confirmation rate for free or paid listings, then used with its own probability;
- **further requests** arrive by the listing's start as the registration curve of past listings says: for
  the days left, the expected number of further requests given how many the listing already has
  (a least-squares line per lead-time bucket, fitted on listings that started before T), with the
  over-dispersion of those past listings; each is confirmed and used at the platform's rates; confirmed
  seats never exceed the capacity.

Expected attendance (seats checked in) and the 10th and 90th percentiles come from 4,000 simulated
outcomes per listing (seeded). The baseline is the seats requested so far × the platform's overall
show-up rate per requested seat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from analytics.intelligence.attendance.seats import Listing, Request

if TYPE_CHECKING:
    from analytics.intelligence.attendance.model import AttendanceModel

LEAD_BUCKETS_DAYS: tuple[float, ...] = (0.5, 1, 2, 3, 5, 7, 10, 14, 21, 30)
DRAWS = 4000
MAX_SEATS = 6
SEED = 29
INTERVAL = (0.10, 0.90)


@dataclass(frozen=True)
class CurveBucket:
    lead_days: float
    intercept: float
    slope: float
    dispersion: float  # variance / mean of further requests around the line (≥ 1)
    listings: int


@dataclass(frozen=True)
class RegistrationCurve:
    """Further requests a listing gets after lead L given the requests it has at L (past listings)."""

    buckets: tuple[CurveBucket, ...]
    seats_per_request: float
    seat_shares: tuple[float, ...]  # share of requests for 1, 2, … seats
    show_rate_free: float  # per confirmed seat
    show_rate_paid: float
    overall_show_per_requested_seat: float  # the baseline's rate
    spread: float = 1.0  # the over-dispersion multiplier that gave 80% coverage on past listings

    def bucket(self, lead_days: float) -> CurveBucket:
        return min(self.buckets, key=lambda b: abs(math.log(max(lead_days, 0.05)) - math.log(b.lead_days)))


def registration_curve_fit(requests: list[Request], *, as_of: datetime) -> RegistrationCurve:
    """Fit on the listings that took place before `as_of` (all their requests are in)."""
    by_listing: dict[str, list[Request]] = {}
    listings: dict[str, Listing] = {}
    for r in requests:
        if r.listing.held_before(as_of) and not r.declined:
            by_listing.setdefault(r.listing.listing_id, []).append(r)
            listings[r.listing.listing_id] = r.listing
    buckets = []
    for lead in LEAD_BUCKETS_DAYS:
        before, after = [], []
        for listing_id, items in by_listing.items():
            start = listings[listing_id].starts_at
            created = listings[listing_id].created_at
            moment = start - timedelta(days=lead)
            if created is not None and created > moment:
                continue  # not yet published at that lead
            n_before = sum(1 for r in items if r.requested_at < moment)
            before.append(n_before)
            after.append(len(items) - n_before)
        if len(before) < 5:
            buckets.append(CurveBucket(lead, 0.0, 0.0, 1.0, len(before)))
            continue
        x, y = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
        slope, intercept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(y.mean()))
        fitted = np.clip(intercept + slope * x, 0.05, None)
        dispersion = float(max(1.0, np.mean((y - fitted) ** 2 / fitted)))
        buckets.append(CurveBucket(lead, float(max(intercept, 0.0)), float(max(slope, 0.0)), dispersion, len(x)))
    confirmed = [r for r in requests if r.outcome_known(as_of)]
    free = [r for r in confirmed if not r.listing.paid]
    paid = [r for r in confirmed if r.listing.paid]
    requested_seats = sum(r.seats for items in by_listing.values() for r in items)
    checked_seats = sum(r.seats for items in by_listing.values() for r in items if r.attended)
    seats = [min(r.seats, MAX_SEATS) for items in by_listing.values() for r in items]
    counts = np.bincount(seats, minlength=MAX_SEATS + 1)[1:] if seats else np.array([1] + [0] * (MAX_SEATS - 1))
    return RegistrationCurve(
        buckets=tuple(buckets),
        seats_per_request=float(np.mean(seats)) if seats else 1.0,
        seat_shares=tuple(float(c) for c in counts / counts.sum()),
        show_rate_free=(sum(r.attended for r in free) + 3.5) / (len(free) + 5.0),
        show_rate_paid=(sum(r.attended for r in paid) + 4.5) / (len(paid) + 5.0),
        overall_show_per_requested_seat=checked_seats / requested_seats if requested_seats else 0.6,
    )


@dataclass(frozen=True)
class ListingForecast:
    listing_id: str
    as_of: datetime
    lead_days: float
    confirmed_seats: int
    pending_seats: int
    expected_further_requests: float
    expected_attendance: float
    low: float  # the 10th percentile
    high: float  # the 90th percentile
    baseline: float  # requested seats so far × the platform's show-up rate per requested seat


def _negative_binomial(rng: np.random.Generator, mean: float, dispersion: float, size: int) -> np.ndarray:
    if mean <= 0:
        return np.zeros(size, dtype=int)
    if dispersion <= 1.0001:
        return rng.poisson(mean, size)
    p = 1.0 / dispersion
    n = mean * p / (1.0 - p)
    return rng.negative_binomial(n, p, size)


def listing_forecast(
    listing: Listing,
    requests: list[Request],
    *,
    as_of: datetime,
    model: AttendanceModel,
    curve: RegistrationCurve,
    probabilities: dict[tuple[str, str], float],
) -> ListingForecast:
    """The forecast of one upcoming listing from its requests known at `as_of` (their probabilities of
    being used, once confirmed, in `probabilities`)."""
    rng = np.random.default_rng([SEED, int(listing.listing_id) if listing.listing_id.isdigit() else 0])
    live = [
        r for r in requests if not r.declined and (r.attendee_cancelled_at is None or r.attendee_cancelled_at >= as_of)
    ]
    confirmed = [r for r in live if r.confirmed_by(as_of)]
    pending = [r for r in live if not r.confirmed_by(as_of)]
    confirm_rate = model.confirm_rate_paid if listing.paid else model.confirm_rate_free
    show_rate = curve.show_rate_paid if listing.paid else curve.show_rate_free
    lead = max(0.0, (listing.starts_at - as_of).total_seconds() / 86_400.0)
    bucket = curve.bucket(lead)
    further = bucket.intercept + bucket.slope * len(live) if lead > 0.25 else 0.0

    taken = float(sum(r.seats for r in confirmed))
    attended_seats = np.zeros(DRAWS)  # seats checked in, per simulated outcome
    for r in confirmed:
        attended_seats += (rng.random(DRAWS) < probabilities.get(r.key, show_rate)) * r.seats
    capacity = float(listing.capacity) if listing.capacity else math.inf
    room = np.full(DRAWS, max(capacity - taken, 0.0))
    for r in pending:
        joins = (rng.random(DRAWS) < confirm_rate) & (room >= r.seats)
        room = room - joins * r.seats
        attended_seats += joins * (rng.random(DRAWS) < probabilities.get(r.key, show_rate)) * r.seats
    arrivals = _negative_binomial(rng, further, bucket.dispersion * curve.spread, DRAWS)
    joined = rng.binomial(arrivals, confirm_rate)
    sizes = np.arange(1, len(curve.seat_shares) + 1)
    joined_seats = np.minimum(rng.multinomial(joined, curve.seat_shares) @ sizes, room)
    attended_seats += rng.binomial(joined_seats.astype(int), show_rate)
    low, high = np.quantile(attended_seats, INTERVAL)
    requested_seats = sum(r.seats for r in live)
    return ListingForecast(
        listing_id=listing.listing_id,
        as_of=as_of,
        lead_days=lead,
        confirmed_seats=int(sum(r.seats for r in confirmed)),
        pending_seats=int(sum(r.seats for r in pending)),
        expected_further_requests=float(further),
        expected_attendance=float(attended_seats.mean()),
        low=float(low),
        high=float(high),
        baseline=requested_seats * curve.overall_show_per_requested_seat,
    )


SPREADS: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0)
TARGET_COVERAGE = 0.8


def interval_spread_calibrate(
    curve: RegistrationCurve,
    *,
    model: AttendanceModel,
    cases: list[tuple[datetime, Listing, list[Request], dict[tuple[str, str], float], float]],
) -> RegistrationCurve:
    """The curve with the smallest spread whose 80% intervals covered at least 80% of `cases` — forecasts
    of past listings (instant, listing, its requests then, their probabilities, the seats really used) —
    so that the intervals are as wide as the past says, not as the model's own assumptions say."""
    if len(cases) < 20:
        return curve
    for spread in SPREADS:
        trial = replace(curve, spread=spread)
        covered = 0
        for instant, listing, requests, probabilities, actual in cases:
            forecast = listing_forecast(
                listing, requests, as_of=instant, model=model, curve=trial, probabilities=probabilities
            )
            covered += forecast.low <= actual <= forecast.high
        if covered / len(cases) >= TARGET_COVERAGE:
            return trial
    return replace(curve, spread=SPREADS[-1])
