"""Churn and conversion features of every user at a cutoff, read set-based from the tracked events.

The population at a cutoff T is every identified user with a user-initiated event in the 30 days before
T (users already gone are not "at risk"). For each of them, three grouped reads over `[T − 90 days, T)`
(never one query per user) give recency, frequency and its trend over 7/30/90 days, money, and the
experiences that make people leave: declined requests, failed payments, refunds of cancelled listings,
no-shows, app errors, OTP failures, low ratings and negative review sentiment. Labels, when the caller
asks, come from `[T, T + 30 days)`: churned = no user-initiated event; converted = a check-in.

Everything here is computed from what a platform knows at T: nothing after T enters a feature.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

import numpy as np
from django.db.models import Avg, Count, FloatField, Max, Min, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate

from analytics.models import EventListing, Session, UserEvent

POPULATION_DAYS = 30
LOOKBACK_DAYS = 90
HORIZON_DAYS = 30
NOT_USER_INITIATED = ("api_request", "app_error")

# Recency / frequency: the baseline's inputs, and the model's first features.
BASELINE_FEATURES: tuple[str, ...] = ("recency_days", "log_active_days_30")
FEATURES: tuple[str, ...] = (
    "recency_days",
    "log_active_days_30",
    "tenure_days",
    "active_days_7",
    "active_days_7_14",
    "active_days_14_21",
    "active_days_21_28",
    "active_days_90",
    "sessions_7",
    "sessions_30",
    "sessions_prev_30",
    "sessions_90",
    "session_trend",
    "recency_vs_habit",
    "gap_median_days",
    "gap_last_days",
    "gap_max_days",
    "overdue_ratio",
    "mean_session_minutes",
    "recent_session_depth",
    "signup_session_events",
    "profile_fields",
    "views_30",
    "requests_90",
    "days_since_request",
    "payments_90",
    "revenue_90",
    "days_since_payment",
    "payment_failures_90",
    "declined_90",
    "refunds_90",
    "check_ins_90",
    "days_since_check_in",
    "no_shows_90",
    "app_errors_30",
    "otp_failures_30",
    "reviews_90",
    "rating_min",
    "sentiment_mean",
)


@dataclass(frozen=True)
class FeatureFrame:
    """One row per user of the population at `as_of`; labels only when asked for (and observable)."""

    as_of: datetime
    user_ids: list[str]
    matrix: np.ndarray  # rows × FEATURES (NaN = unknown)
    churned: np.ndarray | None = None  # 1 = no user-initiated event in the horizon
    converted: np.ndarray | None = None  # 1 = a check-in in the horizon

    @property
    def rows(self) -> int:
        return len(self.user_ids)

    def columns(self, names: Sequence[str]) -> np.ndarray:
        return self.matrix[:, [FEATURES.index(name) for name in names]]


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86_400.0


def _population(as_of: datetime) -> list[str]:
    start = as_of - timedelta(days=POPULATION_DAYS)
    return sorted(
        str(user)
        for user in UserEvent.objects.filter(timestamp__gte=start, timestamp__lt=as_of, user_id__isnull=False)
        .exclude(event_name__in=NOT_USER_INITIATED)
        .values_list("user_id", flat=True)
        .distinct()
    )


def _event_aggregates(users: list[str], as_of: datetime) -> dict[str, dict[str, object]]:
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    d30 = as_of - timedelta(days=30)
    initiated = ~Q(event_name__in=NOT_USER_INITIATED)

    def named(name: str, since: datetime = start) -> Q:
        return Q(event_name=name, timestamp__gte=since)

    rows = (
        UserEvent.objects.filter(user_id__in=users, timestamp__gte=start, timestamp__lt=as_of)
        .values("user_id")
        .annotate(
            first=Min("timestamp", filter=initiated),
            last=Max("timestamp", filter=initiated),
            views_30=Count("id", filter=named("event_viewed", d30)),
            requests_90=Count("id", filter=named("event_requested")),
            last_request=Max("timestamp", filter=named("event_requested")),
            payments_90=Count("id", filter=named("payment_completed")),
            revenue_90=Sum("revenue_impact", filter=named("payment_completed")),
            last_payment=Max("timestamp", filter=named("payment_completed")),
            payment_failures_90=Count("id", filter=named("payment_failed")),
            declined_90=Count("id", filter=named("event_request_declined")),
            refunds_90=Count("id", filter=named("payment_refunded")),
            check_ins_90=Count("id", filter=named("event_checked_in")),
            last_check_in=Max("timestamp", filter=named("event_checked_in")),
            app_errors_30=Count("id", filter=named("app_error", d30)),
            otp_failures_30=Count("id", filter=named("otp_failed", d30)),
            reviews_90=Count("id", filter=named("review_submitted")),
            sentiment_mean=_avg_sentiment(start),
        )
        .order_by()
    )
    return {str(row.pop("user_id")): row for row in rows}


def _avg_sentiment(start: datetime) -> Avg:
    return Avg("sentiment_score", filter=Q(event_name__in=("review_submitted", "feedback_submitted")))


def _property_extremes(users: list[str], as_of: datetime) -> dict[str, dict[str, float]]:
    """The lowest review rating and the most profile fields completed, per user, in the lookback."""
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    found: dict[str, dict[str, float]] = {}
    for name, key, aggregate in (("review_submitted", "rating", Min), ("profile_updated", "fields_completed", Max)):
        rows = (
            UserEvent.objects.filter(user_id__in=users, event_name=name, timestamp__gte=start, timestamp__lt=as_of)
            .annotate(number=Cast(KT(f"properties__{key}"), FloatField()))
            .values("user_id")
            .annotate(value=aggregate("number"))
            .order_by()
        )
        for row in rows:
            if row["value"] is not None:
                found.setdefault(str(row["user_id"]), {})[key] = float(row["value"])
    return found


def _signup_sessions(users: list[str], as_of: datetime) -> dict[str, int]:
    """Events in the session where each user signed up (first-session engagement), when inside the lookback."""
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    session_of = {
        str(session): str(user)
        for user, session in UserEvent.objects.filter(
            user_id__in=users, event_name="user_registered", timestamp__gte=start, timestamp__lt=as_of
        )
        .exclude(session_id=None)
        .values_list("user_id", "session_id")
    }
    counts: dict[str, int] = {}
    sessions = sorted(session_of)
    for begin in range(0, len(sessions), 500):
        rows = (
            UserEvent.objects.filter(session_id__in=sessions[begin : begin + 500], timestamp__lt=as_of)
            .exclude(event_name__in=NOT_USER_INITIATED)
            .values("session_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            counts[session_of[str(row["session_id"])]] = int(row["n"])
    return counts


@dataclass(frozen=True)
class ActiveDays:
    """A user's distinct active days (user-initiated events, UTC days) in the lookback, as days before the
    cutoff: how many fall in each recent week, and the gaps between them — the habit a silence is
    measured against (median, last and longest gap; none with fewer than two active days)."""

    before: list[int]  # days before the cutoff's day (0 = the cutoff's own day), ascending

    def within(self, low: int, high: int) -> float:
        return float(sum(1 for d in self.before if low <= d < high))

    def gaps(self) -> tuple[float, float, float] | None:
        if len(self.before) < 2:
            return None
        gaps = [float(later - earlier) for earlier, later in pairwise(self.before)]
        return float(np.median(gaps)), gaps[0], max(gaps)


def _active_days(users: list[str], as_of: datetime) -> dict[str, ActiveDays]:
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    cutoff_day = as_of.date()
    days: dict[str, list[int]] = {}
    rows = (
        UserEvent.objects.filter(user_id__in=users, timestamp__gte=start, timestamp__lt=as_of)
        .exclude(event_name__in=NOT_USER_INITIATED)
        .annotate(day=TruncDate("timestamp"))
        .values_list("user_id", "day")
        .distinct()
    )
    for user, day in rows:
        days.setdefault(str(user), []).append((cutoff_day - day).days)
    return {user: ActiveDays(sorted(before)) for user, before in days.items()}


def _sessions(users: list[str], as_of: datetime) -> dict[str, dict[str, object]]:
    """Browsing sessions (an identified user's sessions that showed a screen) per user."""
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    d7, d14, d30, d60 = (as_of - timedelta(days=n) for n in (7, 14, 30, 60))
    rows = (
        Session.objects.filter(user_id__in=users, started_at__gte=start, started_at__lt=as_of)
        .exclude(entry_screen="")
        .values("user_id")
        .annotate(
            sessions_7=Count("id", filter=Q(started_at__gte=d7)),
            sessions_30=Count("id", filter=Q(started_at__gte=d30)),
            sessions_prev_30=Count("id", filter=Q(started_at__gte=d60, started_at__lt=d30)),
            sessions_90=Count("id"),
            mean_seconds=Avg("duration_seconds"),
            mean_events=Avg("event_count"),
            recent_events=Avg("event_count", filter=Q(started_at__gte=d14)),
        )
        .order_by()
    )
    return {str(row.pop("user_id")): row for row in rows}


def _no_shows(users: list[str], as_of: datetime) -> dict[str, int]:
    """Accepted requests for listings that started (and were held) before `as_of`, without a check-in."""
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    accepted = set(
        UserEvent.objects.filter(
            user_id__in=users,
            event_name="event_request_accepted",
            timestamp__gte=start,
            timestamp__lt=as_of,
            listing_id__isnull=False,
        ).values_list("user_id", "listing_id")
    )
    if not accepted:
        return {}
    listings = sorted({str(listing) for _, listing in accepted})
    held: set[str] = set()
    for begin in range(0, len(listings), 500):
        held |= set(
            EventListing.objects.filter(
                listing_id__in=listings[begin : begin + 500], starts_at__gte=start, starts_at__lt=as_of
            )
            .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=as_of))
            .values_list("listing_id", flat=True)
        )
    checked_in = set(
        UserEvent.objects.filter(
            user_id__in=users, event_name="event_checked_in", timestamp__gte=start, timestamp__lt=as_of
        ).values_list("user_id", "listing_id")
    )
    counts: dict[str, int] = {}
    for user, listing in accepted:
        if listing in held and (user, listing) not in checked_in:
            counts[str(user)] = counts.get(str(user), 0) + 1
    return counts


def _labels(users: list[str], as_of: datetime) -> tuple[set[str], set[str]]:
    """(users with a user-initiated event in the horizon, users with a check-in in it)."""
    end = as_of + timedelta(days=HORIZON_DAYS)
    base = UserEvent.objects.filter(user_id__in=users, timestamp__gte=as_of, timestamp__lt=end)
    active = {str(u) for u in base.exclude(event_name__in=NOT_USER_INITIATED).values_list("user_id", flat=True)}
    converted = {str(u) for u in base.filter(event_name="event_checked_in").values_list("user_id", flat=True)}
    return active, converted


def _since(as_of: datetime, instant: object) -> float:
    return _days(as_of - instant) if isinstance(instant, datetime) else float(LOOKBACK_DAYS + 30)


def _row(
    as_of: datetime,
    events: dict[str, object],
    sessions: dict[str, object],
    extremes: dict[str, float],
    no_shows: int,
    signup_events: int | None,
    active: ActiveDays,
) -> list[float]:
    def n(key: str, source: dict[str, object] = events) -> float:
        value = source.get(key)
        return float(value) if value is not None else 0.0  # type: ignore[arg-type]

    first, last = events.get("first"), events.get("last")
    gaps = active.gaps()
    recency = _since(as_of, last)
    tenure = _since(as_of, first) if isinstance(first, datetime) else 0.0
    sessions_30, sessions_7, sessions_90 = (
        n("sessions_30", sessions),
        n("sessions_7", sessions),
        n("sessions_90", sessions),
    )
    observed_days = max(min(tenure, float(LOOKBACK_DAYS)), 1.0)
    habit = sessions_90 / observed_days  # browsing sessions per day over what we saw
    mean_seconds = sessions.get("mean_seconds")
    mean_events, recent_events = sessions.get("mean_events"), sessions.get("recent_events")
    sentiment = events.get("sentiment_mean")
    depth = (
        float(recent_events) / float(mean_events)  # type: ignore[arg-type]
        if recent_events is not None and mean_events
        else math.nan
    )
    return [
        recency,
        math.log1p(active.within(0, 30)),
        tenure,
        active.within(0, 7),
        active.within(7, 14),
        active.within(14, 21),
        active.within(21, 28),
        float(len(active.before)),
        sessions_7,
        sessions_30,
        n("sessions_prev_30", sessions),
        sessions_90,
        (sessions_7 + 0.5) / (sessions_30 / 30.0 * 7.0 + 0.5),
        recency * habit,
        gaps[0] if gaps else math.nan,
        gaps[1] if gaps else math.nan,
        gaps[2] if gaps else math.nan,
        recency / max(gaps[0], 1.0) if gaps else math.nan,
        float(mean_seconds) / 60.0 if mean_seconds is not None else math.nan,  # type: ignore[arg-type]
        depth,
        float(signup_events) if signup_events is not None else math.nan,
        extremes.get("fields_completed", math.nan),
        n("views_30"),
        n("requests_90"),
        _since(as_of, events.get("last_request")),
        n("payments_90"),
        n("revenue_90"),
        _since(as_of, events.get("last_payment")),
        n("payment_failures_90"),
        n("declined_90"),
        n("refunds_90"),
        n("check_ins_90"),
        _since(as_of, events.get("last_check_in")),
        float(no_shows),
        n("app_errors_30"),
        n("otp_failures_30"),
        n("reviews_90"),
        extremes.get("rating", math.nan),
        float(sentiment) if sentiment is not None else math.nan,  # type: ignore[arg-type]
    ]


_CHUNK = 2_000


def churn_features(*, as_of: datetime, labels: bool = False, user_ids: Sequence[str] | None = None) -> FeatureFrame:
    """The feature frame of the population at `as_of` (or of `user_ids` among it); with `labels`, the
    churn and conversion outcomes of the 30 days after `as_of` (the caller makes sure they are observed)."""
    population = _population(as_of)
    if user_ids is not None:
        wanted = set(user_ids)
        population = [u for u in population if u in wanted]
    rows: list[list[float]] = []
    churned: list[int] = []
    converted: list[int] = []
    for start in range(0, len(population), _CHUNK):
        users = population[start : start + _CHUNK]
        events = _event_aggregates(users, as_of)
        sessions = _sessions(users, as_of)
        extremes = _property_extremes(users, as_of)
        no_shows = _no_shows(users, as_of)
        signups = _signup_sessions(users, as_of)
        active_days = _active_days(users, as_of)
        for user in users:
            rows.append(
                _row(
                    as_of,
                    events.get(user, {}),
                    sessions.get(user, {}),
                    extremes.get(user, {}),
                    no_shows.get(user, 0),
                    signups.get(user),
                    active_days.get(user, ActiveDays([])),
                )
            )
        if labels:
            active, checked_in = _labels(users, as_of)
            churned.extend(int(user not in active) for user in users)
            converted.extend(int(user in checked_in) for user in users)
    matrix = np.asarray(rows, dtype=float).reshape(len(rows), len(FEATURES))
    return FeatureFrame(
        as_of=as_of,
        user_ids=population,
        matrix=matrix,
        churned=np.asarray(churned, dtype=int) if labels else None,
        converted=np.asarray(converted, dtype=int) if labels else None,
    )
