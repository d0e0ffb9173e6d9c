"""Churn and conversion features of every user at a cutoff, read set-based from the tracked events.

The population at a cutoff T is every identified user with a user-initiated event in the 30 days before
T (users already gone are not "at risk"). For each of them, four grouped reads over `[T − 90 days, T)`
(never one query per user; `queries.py`) give recency, frequency and its trend over 7/30/90 days, money,
and the experiences that make people leave: declined requests, failed payments, refunds of cancelled
listings, no-shows, app errors, OTP failures, low ratings and negative review sentiment. Labels, when the
caller asks, come from `[T, T + 30 days)`: churned = no user-initiated event; converted = a check-in.
Every window is a whole number of 24-hour days before T, and a training split's cutoffs (whole weeks apart)
are read together: one scan of the events for all of them.

Everything here is computed from what a platform knows at T: nothing after T enters a feature.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

import numpy as np

from analytics.intelligence.churn.queries import NOT_USER_INITIATED, FeatureQueries, Window
from analytics.metrics.analysis_session import analysis_session

POPULATION_DAYS = 30
LOOKBACK_DAYS = 90
HORIZON_DAYS = 30
__all__ = ["NOT_USER_INITIATED", "churn_features", "churn_frames"]

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


@dataclass(frozen=True)
class ActiveDays:
    """A user's distinct active days (user-initiated events, UTC days) in the lookback, as days before the
    cutoff: how many fall in each recent week, and the gaps between them — the habit a silence is
    measured against (median, last and longest gap; none with fewer than two active days)."""

    before: list[int]  # whole days before the cutoff (0 = the 24 hours before it), ascending

    @classmethod
    def parse(cls, joined: str | None) -> ActiveDays:
        """From the comma-separated days the feature read returns (in no particular order)."""
        return cls(sorted(int(day) for day in joined.split(","))) if joined else cls([])

    def within(self, low: int, high: int) -> float:
        return float(sum(1 for d in self.before if low <= d < high))

    def gaps(self) -> tuple[float, float, float] | None:
        if len(self.before) < 2:
            return None
        gaps = [float(later - earlier) for earlier, later in pairwise(self.before)]
        return statistics.median(gaps), gaps[0], max(gaps)


def _ago(days: Any) -> float:
    """Days since something happened in the lookback; LOOKBACK + 30 when it did not."""
    return float(days) if days is not None else float(LOOKBACK_DAYS + 30)


def _row(
    events: dict[str, Any],
    sessions: dict[str, Any],
    no_shows: int,
    signup_events: int | None,
    active: ActiveDays,
) -> list[float]:
    def n(key: str, source: dict[str, Any] = events) -> float:
        value = source.get(key)
        return float(value) if value is not None else 0.0

    def maybe(key: str) -> float:
        value = events.get(key)
        return float(value) if value is not None else math.nan

    gaps = active.gaps()
    recency = _ago(events.get("last_days_ago"))
    first = events.get("first_days_ago")
    tenure = float(first) if first is not None else 0.0
    sessions_30, sessions_7, sessions_90 = (
        n("sessions_30", sessions),
        n("sessions_7", sessions),
        n("sessions_90", sessions),
    )
    observed_days = max(min(tenure, float(LOOKBACK_DAYS)), 1.0)
    habit = sessions_90 / observed_days  # browsing sessions per day over what we saw
    mean_seconds = sessions.get("mean_seconds")
    mean_events, recent_events = sessions.get("mean_events"), sessions.get("recent_events")
    sentiment_n = n("sentiment_n")
    depth = float(recent_events) / float(mean_events) if recent_events is not None and mean_events else math.nan
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
        float(mean_seconds) / 60.0 if mean_seconds is not None else math.nan,
        depth,
        float(signup_events) if signup_events is not None else math.nan,
        maybe("fields_completed"),
        n("views_30"),
        n("requests_90"),
        _ago(events.get("request_days_ago")),
        n("payments_90"),
        n("revenue_90"),
        _ago(events.get("payment_days_ago")),
        n("payment_failures_90"),
        n("declined_90"),
        n("refunds_90"),
        n("check_ins_90"),
        _ago(events.get("check_in_days_ago")),
        float(no_shows),
        n("app_errors_30"),
        n("otp_failures_30"),
        n("reviews_90"),
        maybe("rating"),
        n("sentiment_sum") / sentiment_n if sentiment_n else math.nan,
    ]


def churn_frames(
    cutoffs: Sequence[datetime], *, labels: bool = False, user_ids: Sequence[str] | None = None
) -> list[FeatureFrame]:
    """The feature frame of the population at each cutoff (or of `user_ids` among it), read together: the
    cutoffs must be whole days apart (a training split's weekly cutoffs are). With `labels`, the churn and
    conversion outcomes of the 30 days after each cutoff (the caller makes sure they are observed)."""
    if not cutoffs:
        return []
    window = Window.of(cutoffs, lookback_days=LOOKBACK_DAYS, horizon_days=HORIZON_DAYS if labels else 0)
    queries = FeatureQueries(window, lookback_days=LOOKBACK_DAYS, horizon_days=HORIZON_DAYS, user_ids=user_ids)
    by_cutoff: list[list[dict[str, Any]]] = [[] for _ in cutoffs]
    # The rollup sorts and groups millions of rows: with PostgreSQL's default 4 MB of work_mem it spilled
    # 600 MB to disk and took 12.8 s of a 13 s read at 100,000 users (docs/benchmarks.md).
    with analysis_session():
        for row in queries.events(labels=labels):
            by_cutoff[row["idx"]].append(row)
        sessions, no_shows, signups = queries.sessions(), queries.no_shows(), queries.signup_sessions()
    frames = []
    for idx, as_of in enumerate(cutoffs):
        people = sorted(by_cutoff[idx], key=lambda row: str(row["user_id"]))
        users = [str(row["user_id"]) for row in people]
        matrix = np.asarray(
            [
                _row(
                    row,
                    sessions.get((idx, user), {}),
                    no_shows.get((idx, user), 0),
                    signups.get((idx, user)),
                    ActiveDays.parse(row["active_days"]),
                )
                for user, row in zip(users, people, strict=True)
            ],
            dtype=float,
        ).reshape(len(users), len(FEATURES))
        frames.append(
            FeatureFrame(
                as_of=as_of,
                user_ids=users,
                matrix=matrix,
                churned=np.asarray([1 - int(row["active_after"]) for row in people], dtype=int) if labels else None,
                converted=np.asarray([int(row["checked_in_after"]) for row in people], dtype=int) if labels else None,
            )
        )
    return frames


def churn_features(*, as_of: datetime, labels: bool = False, user_ids: Sequence[str] | None = None) -> FeatureFrame:
    """The feature frame of the population at `as_of` (or of `user_ids` among it); with `labels`, the
    churn and conversion outcomes of the 30 days after `as_of` (the caller makes sure they are observed)."""
    return churn_frames([as_of], labels=labels, user_ids=user_ids)[0]
