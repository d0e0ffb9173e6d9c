"""Churn: the daily chain active → fading → churned, and its exact 30-day probability.

The same two functions drive the simulated days and the hidden horizon after the end date, so the
ground truth's `probability_30d` is the exact probability of the process that drew `outcome_30d`.
"""

from __future__ import annotations

import math
import random

from analytics.simulator import parameters as p
from analytics.simulator.world import ACTIVE, CHURNED, FADING, User


def fading_hazard(user: User, *, tenure_days: int, frustration: float) -> float:
    """Probability that an active user starts to fade today (frustration already decayed for today)."""
    early = 1.0 + p.EARLY_CHURN * math.exp(-tenure_days / p.EARLY_CHURN_DAYS)
    return min(p.HAZARD_CAP, user.churn_hazard * early * math.exp(p.FRUSTRATION_WEIGHT * frustration))


def fade_multiplier(days_fading: int) -> float:
    """A fading user's sessions relative to normal."""
    return p.FADE_FLOOR + (p.FADE_MULTIPLIER_START - p.FADE_FLOOR) * math.exp(-days_fading / p.FADE_DAYS)


def churn_step(user: User, day: int, rng: random.Random) -> None:
    """The day tick of one registered user: decay frustration, then move along the chain."""
    user.frustration *= p.FRUSTRATION_DECAY
    if user.status == ACTIVE:
        hazard = fading_hazard(user, tenure_days=day - user.signup_day, frustration=user.frustration)
        if rng.random() < hazard:
            user.status = FADING
            user.fading_since = day
    elif user.status == FADING and rng.random() < p.DEPARTURE:
        user.status = CHURNED
        user.churned_day = day


def churn_probability(user: User, *, first_day: int, horizon: int = p.CHURN_HORIZON_DAYS) -> float:
    """P(the user has churned by the end of day `first_day + horizon - 1` | the latent state now).

    Exact: a forward recursion over the chain's three states with the day-by-day hazards the
    simulation would use (frustration only decays in the horizon; no new experiences are drawn).
    """
    if user.status == CHURNED:
        return 1.0
    active = 1.0 if user.status == ACTIVE else 0.0
    fading = 1.0 - active
    churned = 0.0
    frustration = user.frustration
    for offset in range(horizon):
        day = first_day + offset
        frustration *= p.FRUSTRATION_DECAY
        hazard = fading_hazard(user, tenure_days=day - user.signup_day, frustration=frustration)
        departing = fading * p.DEPARTURE
        newly_fading = active * hazard
        churned += departing
        fading += newly_fading - departing
        active -= newly_fading
    return min(1.0, max(0.0, churned))


def churn_outcome(user: User, *, first_day: int, rng: random.Random, horizon: int = p.CHURN_HORIZON_DAYS) -> int | None:
    """Run the chain through the hidden horizon (no events); the day the user churns, or None."""
    if user.status == CHURNED:
        return user.churned_day
    status = user.status
    frustration = user.frustration
    for offset in range(horizon):
        day = first_day + offset
        frustration *= p.FRUSTRATION_DECAY
        if status == ACTIVE:
            hazard = fading_hazard(user, tenure_days=day - user.signup_day, frustration=frustration)
            if rng.random() < hazard:
                status = FADING
        elif rng.random() < p.DEPARTURE:
            return day
    return None
