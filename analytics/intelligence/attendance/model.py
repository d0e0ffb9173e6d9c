"""Who will show up: the probability that a confirmed seat is used (a check-in), per request.

Features of a seat are what was known when it was confirmed (analytics/intelligence/attendance/seats.py):
the listing (free or paid, price, seats, lead time, weekday and hour of the start, category), the
person (earlier seats and check-ins, a smoothed show-up rate, interest in the category, whether their
visits were slowing down) and the host (earlier seats and their show-up rate). The model is the
calibrated gradient boosting of `intelligence.probability`; the baseline is the show-up rate of free and of
paid seats.

Temporal split as of an instant A: the seats of listings that started in the 30 days before A are the
evaluation; the model learns from the seats of listings that started before that.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from analytics.intelligence.attendance.activity import Activity, activity_read
from analytics.intelligence.attendance.forecast import (
    RegistrationCurve,
    interval_spread_calibrate,
    registration_curve_fit,
)
from analytics.intelligence.attendance.seats import (
    LOOKBACK_DAYS,
    Listing,
    Request,
    listings_read,
    requests_known_at,
    requests_read,
    with_history,
)
from analytics.intelligence.probability import CalibratedBoosting, binary_scores
from analytics.intelligence.registry import NotEnoughData, Trained
from analytics.metrics.periods import business_zone

EVALUATION_DAYS = 30
CALIBRATION_OFFSETS_DAYS = (42, 35, 28, 21, 14)  # instants before the boundary whose forecasts size the intervals
FORECAST_HORIZON_DAYS = 14  # a forecast case: a listing starting within this many days of the instant
MIN_TRAINING_SEATS = 200
MIN_CLASS_SEATS = 20
MIN_EVALUATION_SEATS = 50
CATEGORIES: tuple[str, ...] = ("music", "tech", "food", "sports", "art", "networking", "wellness", "comedy")
FEATURES: tuple[str, ...] = (
    "paid",
    "log_price",
    "seats",
    "lead_days",
    "hours_to_confirm",
    "start_weekday",
    "start_hour",
    "weekend_start",
    "category",
    "log_capacity",
    "user_prior_seats",
    "user_prior_check_ins",
    "user_show_rate",
    "host_prior_seats",
    "host_show_rate",
    "category_view_share",
    "views_90",
    "sessions_14",
    "session_trend",
    "days_since_session",
    "sessions_90",
    "weekend_session_share",
    "views_per_session",
    "mean_viewed_price",
    "requests_before",
    "tenure_days",
)


def seat_vector(request: Request, *, confirmed_at: datetime | None = None) -> list[float]:
    """FEATURES of one seat (history from `request.history`)."""
    listing = request.listing
    at = confirmed_at or request.confirmed_at or request.requested_at
    local = listing.starts_at.astimezone(business_zone())
    history = request.history
    return [
        float(listing.paid),
        math.log1p(listing.price),
        float(request.seats),
        max(0.0, (listing.starts_at - at).total_seconds() / 86_400.0),
        max(0.0, (at - request.requested_at).total_seconds() / 3600.0),
        float(local.weekday()),
        local.hour + local.minute / 60.0,
        float(local.weekday() >= 5),
        float(CATEGORIES.index(listing.category)) if listing.category in CATEGORIES else -1.0,
        math.log1p(listing.capacity) if listing.capacity else math.nan,
        history.get("user_prior_seats", 0.0),
        history.get("user_prior_check_ins", 0.0),
        history.get("user_show_rate", math.nan),
        history.get("host_prior_seats", 0.0),
        history.get("host_show_rate", math.nan),
        history.get("category_view_share", math.nan),
        history.get("views_90", 0.0),
        history.get("sessions_14", 0.0),
        history.get("session_trend", math.nan),
        history.get("days_since_session", math.nan),
        history.get("sessions_90", 0.0),
        history.get("weekend_session_share", math.nan),
        history.get("views_per_session", math.nan),
        history.get("mean_viewed_price", math.nan),
        history.get("requests_before", 0.0),
        history.get("tenure_days", 0.0),
    ]


def seat_matrix(requests: list[Request]) -> np.ndarray:
    return np.asarray([seat_vector(r) for r in requests], dtype=float).reshape(len(requests), len(FEATURES))


@dataclass
class AttendanceModel:
    """What the registry stores: the calibrated model and the free / paid show-up rates (the baseline,
    and the rate a request not yet confirmed is scored with once it would be)."""

    model: CalibratedBoosting
    free_rate: float
    paid_rate: float
    confirm_rate_free: float  # share of requests that end up confirmed (accepted)
    confirm_rate_paid: float  # … (accepted and paid)
    curve: RegistrationCurve  # further requests by lead time, for the listing forecasts

    def predict_seats(self, requests: list[Request]) -> np.ndarray:
        return self.model.predict(seat_matrix(requests)) if requests else np.zeros(0)

    def baseline(self, requests: list[Request]) -> np.ndarray:
        return np.array([self.paid_rate if r.listing.paid else self.free_rate for r in requests], dtype=float)


@dataclass(frozen=True)
class AttendanceSplit:
    as_of: datetime
    requests: list[Request]  # every request of the lookback, history filled
    train: list[Request]
    evaluation: list[Request]
    activity: Activity | None = None  # every requester's views and sessions, for the calibration's histories
    known: list[Request] | None = None  # requests over a window wide enough for the calibration's instants


def attendance_split(*, as_of: datetime) -> AttendanceSplit:
    """Seats with a known outcome, history filled: listings that started before A − 30 days train, those
    that started in the 30 days before A evaluate. Seats cancelled by the attendee count as not used."""
    known = requests_read(as_of=as_of, lookback_days=LOOKBACK_DAYS + EVALUATION_DAYS + max(CALIBRATION_OFFSETS_DAYS))
    requests = requests_known_at(known, as_of=as_of)
    activity = None
    if requests:  # read once for every requester: the split's histories and the calibration's reuse it
        earliest = min(r.requested_at for r in requests) - timedelta(days=LOOKBACK_DAYS)
        activity = activity_read({r.user_id for r in requests}, start=earliest, end=as_of)
    with_history(requests, as_of=as_of, activity=activity)
    boundary = as_of - timedelta(days=EVALUATION_DAYS)
    known = [r for r in requests if r.outcome_known(as_of)]
    return AttendanceSplit(
        as_of=as_of,
        requests=requests,
        train=[r for r in known if r.listing.starts_at < boundary],
        evaluation=[r for r in known if r.listing.starts_at >= boundary],
        activity=activity,
        known=known,
    )


def _rate(requests: list[Request], default: float) -> float:
    return (sum(r.attended for r in requests) + default * 5.0) / (len(requests) + 5.0)


def _confirm_rate(requests: list[Request], *, paid: bool, before: datetime) -> float:
    decided = [r for r in requests if r.listing.paid == paid and r.listing.starts_at < before]
    return (sum(1 for r in decided if r.confirmed_at is not None) + 2.0) / (len(decided) + 4.0)


def attendance_model_fit(split: AttendanceSplit) -> AttendanceModel:
    train = split.train
    labels = np.array([int(r.attended) for r in train])
    positives = int(labels.sum())
    if len(train) < MIN_TRAINING_SEATS or min(positives, len(train) - positives) < MIN_CLASS_SEATS:
        raise NotEnoughData(
            "attendance",
            needed=f"{MIN_TRAINING_SEATS} confirmed seats of past listings with {MIN_CLASS_SEATS} used and unused",
            found=f"{len(train)} with {positives} used",
        )
    groups = np.array([r.user_id for r in train])
    model = CalibratedBoosting(features=FEATURES).fit(seat_matrix(train), labels, groups=groups)
    free = [r for r in train if not r.listing.paid]
    paid = [r for r in train if r.listing.paid]
    overall = float(labels.mean())
    boundary = split.as_of - timedelta(days=EVALUATION_DAYS)
    fitted = AttendanceModel(
        model=model,
        free_rate=_rate(free, overall),
        paid_rate=_rate(paid, overall),
        confirm_rate_free=_confirm_rate(split.requests, paid=False, before=boundary),
        confirm_rate_paid=_confirm_rate(split.requests, paid=True, before=boundary),
        curve=registration_curve_fit(split.requests, as_of=boundary),
    )
    # How wide the intervals must be: forecasts of listings held before the boundary, made at earlier instants.
    instants = [boundary - timedelta(days=days) for days in CALIBRATION_OFFSETS_DAYS]
    cases = forecast_cases(
        fitted, requests=split.requests, instants=instants, until=boundary, activity=split.activity, known=split.known
    )
    fitted.curve = interval_spread_calibrate(fitted.curve, model=fitted, cases=cases)
    return fitted


class AttendanceSpec:
    name = "attendance"
    minimum_data = (
        f"{MIN_TRAINING_SEATS} confirmed seats of listings held more than {EVALUATION_DAYS} days ago with "
        f"{MIN_CLASS_SEATS} used and {MIN_CLASS_SEATS} unused, and {MIN_EVALUATION_SEATS} seats of listings held "
        f"in the last {EVALUATION_DAYS} days"
    )

    def train(self, *, as_of: datetime) -> Trained:
        return self.train_on(attendance_split(as_of=as_of))

    def train_on(self, split: AttendanceSplit) -> Trained:
        fitted = attendance_model_fit(split)
        evaluation = split.evaluation
        if len(evaluation) < MIN_EVALUATION_SEATS:
            raise NotEnoughData(
                self.name,
                needed=f"{MIN_EVALUATION_SEATS} seats of listings held in the last {EVALUATION_DAYS} days",
                found=str(len(evaluation)),
            )
        labels = np.array([int(r.attended) for r in evaluation])
        scores = binary_scores(fitted.predict_seats(evaluation), labels)
        base = binary_scores(fitted.baseline(evaluation), labels)

        def evaluate_other(estimator: object) -> float | None:
            if not isinstance(estimator, AttendanceModel):
                return None
            return binary_scores(estimator.predict_seats(evaluation), labels).auc

        boundary = split.as_of - timedelta(days=EVALUATION_DAYS)
        return Trained(
            estimator=fitted,
            algorithm=fitted.model.algorithm,
            features=FEATURES,
            training_rows=len(split.train),
            training_start=min((r.requested_at for r in split.train), default=None),
            training_end=boundary,
            evaluated_on=boundary,
            evaluation={
                **scores.as_dict(),
                "baseline_auc": base.auc,
                "baseline_brier": base.brier,
                "label": "a confirmed seat is checked in",
            },
            primary_metric="auc",
            evaluate_other=evaluate_other,
        )


ATTENDANCE = AttendanceSpec()


def _as_if_confirmed(requests: list[Request], *, at: datetime) -> list[Request]:
    """Copies of requests not yet confirmed at `at`, as if confirmed then (to score their use)."""
    copies = []
    for request in requests:
        if not request.confirmed_by(at):
            twin = copy.copy(request)
            twin.confirmed_at = at
            twin.history = {}
            copies.append(twin)
    return copies


def seat_probabilities(
    model: AttendanceModel,
    platform: list[Request],
    requests: list[Request],
    *,
    at: datetime,
    activity: Activity | None = None,
) -> dict[tuple[str, str], float]:
    """P(used once confirmed) of each of `requests` as known at `at` (confirmed ones as they are, the others
    as if confirmed at `at`); `platform` is every request of the lookback as of `at` (the records)."""
    pending = _as_if_confirmed(requests, at=at)
    confirmed = [r for r in requests if r.confirmed_by(at)]
    with_history(platform, as_of=at, extra=pending, targets=confirmed, activity=activity)
    found = {r.key: float(p) for r, p in zip(confirmed, model.predict_seats(confirmed), strict=True)}
    for r, p in zip(pending, model.predict_seats(pending), strict=True):
        found.setdefault(r.key, float(p))
    return found


def listings_with_requests(
    model: AttendanceModel,
    listing_ids: list[str],
    *,
    at: datetime,
    activity: Activity | None = None,
    known: list[Request] | None = None,
) -> tuple[dict[str, Listing], dict[str, list[Request]], dict[tuple[str, str], float]]:
    """The listings, each one's requests as known at `at`, and every such request's probability of being
    used — what a listing forecast needs, for the scoring run and the backtests alike. `known`: requests
    read at a later instant over a window covering `at`'s lookback (read here when not given)."""
    listings = listings_read(listing_ids)
    platform = requests_read(as_of=at) if known is None else requests_known_at(known, as_of=at)
    mine = [r for r in platform if r.listing.listing_id in listings]
    probabilities = seat_probabilities(model, platform, mine, at=at, activity=activity)
    by_listing: dict[str, list[Request]] = {}
    for r in mine:
        by_listing.setdefault(r.listing.listing_id, []).append(r)
    return listings, by_listing, probabilities


ForecastCase = tuple[datetime, Listing, list[Request], dict[tuple[str, str], float], float]


def forecast_cases(
    model: AttendanceModel,
    *,
    requests: list[Request],
    instants: list[datetime],
    until: datetime,
    activity: Activity | None = None,
    known: list[Request] | None = None,
) -> list[ForecastCase]:
    """For each instant: every listing published before it, starting within FORECAST_HORIZON_DAYS of it and
    before `until`, and held — with its requests as known then, their probabilities, and the seats really
    checked in (from `requests`, read at a later instant)."""
    from analytics.models import EventListing

    used: dict[str, float] = {}
    for r in requests:
        if r.attended:
            used[r.listing.listing_id] = used.get(r.listing.listing_id, 0.0) + r.seats
    cases: list[ForecastCase] = []
    for instant in instants:
        ids = list(
            EventListing.objects.filter(
                created_at__lt=instant,
                starts_at__gte=instant,
                starts_at__lt=min(instant + timedelta(days=FORECAST_HORIZON_DAYS), until),
                cancelled_at__isnull=True,
            ).values_list("listing_id", flat=True)
        )
        if not ids:
            continue
        listings, by_listing, probabilities = listings_with_requests(
            model, ids, at=instant, activity=activity, known=known
        )
        for listing_id, listing in listings.items():
            cases.append((instant, listing, by_listing.get(listing_id, []), probabilities, used.get(listing_id, 0.0)))
    return cases
