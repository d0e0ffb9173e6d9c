"""The activity oracle: how active each user was about to be, from the latent state the models never see.

At the checkpoint day (30 days before the end of the window, when the window is long enough) the
simulation records every registered user's latent state — status, when they started to fade, their
frustration. From it, this module computes exactly, with the same daily rates and hazards the
simulation uses (frustration only decays; no new experience is drawn), over the next 30 days:

- `expected_sessions`: the expected number of browsing sessions (the latent activity level);
- `p_any_session`: the probability of opening the app at least once (sessions are Poisson per day,
  so P(none) is the expectation of exp(−Σ daily rates) over the churn chain's paths).

Behaviour models (the engagement score) are held against these: the label is observed in the data (a
`page_view` — every browsing session opens with one — in the 30 days from the checkpoint), the oracle
ranks users by `p_any_session`. Nothing here draws a random number: the events are the same with or
without the checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analytics.simulator import parameters as p
from analytics.simulator.anomalies import AnomalyPlan
from analytics.simulator.behaviour.churn import fade_multiplier, fading_hazard
from analytics.simulator.world import ACTIVE, CHURNED, FADING, Calendar, User

CHECKPOINT_HORIZON_DAYS = 30
MIN_DAYS_BEFORE_CHECKPOINT = 15


@dataclass(frozen=True)
class LatentState:
    status: str
    fading_since: int | None
    frustration: float


@dataclass(frozen=True)
class ActivityOracle:
    expected_sessions: float
    p_any_session: float


def checkpoint_day(days: int) -> int | None:
    """The day index of the checkpoint, or None when the window is too short to have one."""
    day = days - CHECKPOINT_HORIZON_DAYS
    return day if day >= MIN_DAYS_BEFORE_CHECKPOINT else None


def latent_state(user: User) -> LatentState:
    return LatentState(user.status, user.fading_since, user.frustration)


def daily_rate(user: User, day: int, calendar: Calendar, anomalies: AnomalyPlan) -> float:
    """Expected browsing sessions of an active user on `day` (the engine's rate before fading)."""
    share = user.weekend_preference
    day_factor = 3.5 * share if calendar.weekday(day) >= 5 else 1.4 * (1.0 - share)
    tenure = day - user.signup_day
    novelty = p.TENURE_FLOOR + p.NOVELTY_BOOST * math.exp(-tenure / p.NOVELTY_DAYS)
    return (user.sessions_per_week / 7.0) * day_factor * anomalies.traffic(day) * novelty


def activity_oracle(
    user: User,
    state: LatentState,
    *,
    first_day: int,
    calendar: Calendar,
    anomalies: AnomalyPlan,
    horizon: int = CHECKPOINT_HORIZON_DAYS,
) -> ActivityOracle:
    if state.status == CHURNED:
        return ActivityOracle(0.0, 0.0)
    # probability mass per state, and the same mass restricted to paths with no session so far
    active = active_quiet = 1.0 if state.status == ACTIVE else 0.0
    fading: dict[int, float] = {}
    fading_quiet: dict[int, float] = {}
    if state.status == FADING:
        since = state.fading_since if state.fading_since is not None else first_day
        fading[since] = fading_quiet[since] = 1.0
    churned_quiet = 0.0
    frustration = state.frustration
    expected = 0.0
    for day in range(first_day, first_day + horizon):
        frustration *= p.FRUSTRATION_DECAY
        for since in list(fading):  # those already fading may leave for good today
            churned_quiet += fading_quiet[since] * p.DEPARTURE
            fading[since] *= 1.0 - p.DEPARTURE
            fading_quiet[since] *= 1.0 - p.DEPARTURE
        hazard = fading_hazard(user, tenure_days=day - user.signup_day, frustration=frustration)
        fading[day] = active * hazard
        fading_quiet[day] = active_quiet * hazard
        active *= 1.0 - hazard
        active_quiet *= 1.0 - hazard
        rate = daily_rate(user, day, calendar, anomalies)
        expected += active * rate
        active_quiet *= math.exp(-rate)
        for since in fading:
            fading_rate = rate * fade_multiplier(day - since)
            expected += fading[since] * fading_rate
            fading_quiet[since] *= math.exp(-fading_rate)
    quiet = active_quiet + sum(fading_quiet.values()) + churned_quiet
    return ActivityOracle(expected, min(1.0, max(0.0, 1.0 - quiet)))
