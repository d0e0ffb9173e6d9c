"""The ground truth: what really happened in the simulated world, for evaluating every model.

Written to `$ANALYTICS_DATA_DIR/ground_truth.json`; the schema is documented in docs/simulator.md
("Ground truth"). The churn outcome of the hidden 30-day horizon after the end date is drawn here from
its own seeded stream, without emitting any tracked event.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from analytics.simulator import parameters as p
from analytics.simulator.behaviour.activity import CHECKPOINT_HORIZON_DAYS, activity_oracle
from analytics.simulator.behaviour.churn import churn_outcome, churn_probability
from analytics.simulator.behaviour.engine import Simulation
from analytics.simulator.emitter import iso
from analytics.simulator.world import CHURNED, User

SCHEMA_VERSION = 2  # 2: the activity checkpoint (per user `activity_checkpoint`, top-level `activity_checkpoint`)
FILE_NAME = "ground_truth.json"


def _when(instant: float | None) -> str | None:
    return iso(instant) if instant is not None else None


def _day(sim: Simulation, day: int | None) -> str | None:
    return sim.calendar.date_of(day).isoformat() if day is not None else None


def _traits(user: User) -> dict[str, Any]:
    return {
        "sessions_per_week": round(user.sessions_per_week, 4),
        "views_per_session": round(user.views_per_session, 4),
        "search_propensity": round(user.search_propensity, 4),
        "request_propensity": round(user.request_propensity, 4),
        "price_sensitivity": round(user.price_sensitivity, 4),
        "weekend_preference": round(user.weekend_preference, 4),
        "peak_hour": round(user.peak_hour, 3),
        "hour_spread": round(user.hour_spread, 3),
        "show_up_propensity": round(user.show_up_propensity, 4),
        "review_propensity": round(user.review_propensity, 4),
        "invite_propensity": round(user.invite_propensity, 4),
        "churn_hazard": round(user.churn_hazard, 6),
        "group_size": user.group_size,
        "trial_only": user.trial_only,
    }


def _trait_vector(user: User) -> list[float]:
    entropy = -sum(share * math.log(share) for share in user.preferences if share > 0)
    angle = 2 * math.pi * user.peak_hour / 24.0
    return [
        math.log(user.sessions_per_week),
        math.log(user.views_per_session),
        user.search_propensity,
        user.request_propensity,
        user.price_sensitivity,
        user.weekend_preference,
        math.sin(angle),
        math.cos(angle),
        user.show_up_propensity,
        user.review_propensity,
        user.invite_propensity,
        math.log(user.churn_hazard),
        entropy,
        float(user.on_app),
    ]


def persona_separability(users: list[User]) -> float:
    """Share of users whose standardised latent traits are nearest their own persona's centroid — how
    separable the personas are in the latent space (an upper reference for persona discovery)."""
    if len(users) < 2:
        return 1.0
    vectors = [_trait_vector(user) for user in users]
    width = len(vectors[0])
    means = [sum(v[i] for v in vectors) / len(vectors) for i in range(width)]
    spreads = [math.sqrt(sum((v[i] - means[i]) ** 2 for v in vectors) / len(vectors)) or 1.0 for i in range(width)]
    scaled = [[(v[i] - means[i]) / spreads[i] for i in range(width)] for v in vectors]
    groups: dict[str, list[list[float]]] = {}
    for user, vector in zip(users, scaled, strict=True):
        groups.setdefault(user.persona, []).append(vector)
    centroids = {
        name: [sum(v[i] for v in members) / len(members) for i in range(width)] for name, members in groups.items()
    }
    hits = 0
    for user, vector in zip(users, scaled, strict=True):
        nearest = min(
            centroids,
            key=lambda name: sum((a - b) ** 2 for a, b in zip(vector, centroids[name], strict=True)),
        )
        hits += nearest == user.persona
    return hits / len(users)


def _checkpoint_of(sim: Simulation, user: User) -> dict[str, Any] | None:
    state = sim.checkpoint.get(user.user_id)
    if state is None or sim.checkpoint_day is None:
        return None
    oracle = activity_oracle(user, state, first_day=sim.checkpoint_day, calendar=sim.calendar, anomalies=sim.anomalies)
    return {
        "status": state.status,
        "fading_since": _day(sim, state.fading_since),
        "frustration": round(state.frustration, 4),
        "expected_sessions": round(oracle.expected_sessions, 6),
        "p_any_session": round(oracle.p_any_session, 6),
    }


def _users(sim: Simulation) -> list[dict[str, Any]]:
    rng = random.Random(f"{sim.config.seed}:horizon")
    first_day = sim.config.days
    rows = []
    for user in sim.world.users:
        probability = churn_probability(user, first_day=first_day)
        churn_day = churn_outcome(user, first_day=first_day, rng=rng)
        rows.append(
            {
                "user_id": user.user_id,
                "anonymous_id": user.anonymous_id,
                "persona": user.persona,
                "signup_at": _when(sim.calendar.instant(user.signup_day, user.signup_seconds)),
                "signup_method": user.signup_method,
                "city": user.city,
                "platform": "app" if user.on_app else "web",
                "is_host": user.host is not None,
                "preferences": {
                    category: round(share, 5) for category, share in zip(p.CATEGORIES, user.preferences, strict=True)
                },
                "traits": _traits(user),
                "state_at_end": {
                    "status": user.status,
                    "frustration": round(user.frustration, 4),
                    "fading_since": _day(sim, user.fading_since),
                    "churned_on": _day(sim, user.churned_day),
                },
                "churn": {
                    "probability_30d": round(probability, 6),
                    "outcome_30d": churn_day is not None,
                    "churned_on": _day(sim, churn_day),
                    "churned_before_end": user.status == CHURNED,
                },
                "activity_checkpoint": _checkpoint_of(sim, user),
            }
        )
    return rows


def _hosts(sim: Simulation) -> list[dict[str, Any]]:
    return [
        {
            "host_id": host.host_id,
            "quality": round(host.quality, 4),
            "listings_per_week": round(host.listings_per_week, 4),
            "decline_rate": round(host.decline_rate, 4),
            "cancel_propensity": round(host.cancel_propensity, 4),
            "free_share": round(host.free_share, 4),
            "price_premium": round(host.price_premium, 4),
            "categories": list(host.categories),
            "dropped_out_on": _day(sim, host.dropped_day),
            "listings": len(host.listings),
        }
        for host in sim.world.hosts
    ]


def _listings(sim: Simulation) -> list[dict[str, Any]]:
    end = sim.window_end
    return [
        {
            "listing_id": listing.listing_id,
            "host_id": listing.host.host_id,
            "category": listing.category,
            "city": listing.city,
            "venue_type": listing.venue_type,
            "price": listing.price,
            "capacity": listing.capacity,
            "created_at": _when(listing.created_at),
            "starts_at": _when(listing.starts_at),
            "ends_at": _when(listing.ends_at),
            "quality": round(listing.quality, 4),
            "cancelled_at": _when(listing.cancelled_at),
            "confirmed_seats": listing.confirmed_seats,
        }
        for listing in sim.world.listings
        if listing.created_at < end
    ]


def _registrations(sim: Simulation) -> list[dict[str, Any]]:
    rows = []
    end = sim.window_end
    for request in sim.world.requests:
        # A registration is a seat confirmed inside the window (a later one is not in the data yet).
        if request.show_up_probability is None or request.confirmed_at is None or request.confirmed_at >= end:
            continue
        listing = request.listing
        # Unresolved seats (the outcome is not visible before the end) carry their hidden, drawn outcome.
        resolved = request.outcome_at is not None and request.outcome_at < end
        outcome = request.outcome if resolved else ("attended" if request.shows_up else "no_show")
        rows.append(
            {
                "request_id": request.request_id,
                "user_id": request.user.user_id,
                "listing_id": listing.listing_id,
                "seats": request.seats,
                "requested_at": _when(request.requested_at),
                "confirmed_at": _when(request.confirmed_at),
                "starts_at": _when(listing.starts_at),
                "order_id": request.order_id,
                "amount": request.amount,
                "payment_attempts": request.payment_attempts,
                "show_up_probability": round(request.show_up_probability, 6),
                "showed_up": bool(request.shows_up),
                "outcome": outcome,
                "resolved": resolved,
                "experience": round(request.experience, 4) if request.experience is not None else None,
                "rating": request.rating,
                "reviewed": request.reviewed_at is not None,
            }
        )
    return rows


def truth_build(sim: Simulation, *, events_generated: int) -> dict[str, Any]:
    config = sim.config
    users = sim.world.users
    requests = Counter(request.status for request in sim.world.requests)
    listings = _listings(sim)
    registrations = _registrations(sim)
    return {
        "schema_version": SCHEMA_VERSION,
        "model_version": p.MODEL_VERSION,
        "parameters": {
            "users": config.users,
            "days": config.days,
            "seed": config.seed,
            "end_date": config.end_date.isoformat(),
            "time_zone": config.time_zone,
            "anomalies": config.anomalies,
            "window_start": _when(sim.window_start),
            "window_end": _when(sim.window_end),
            "churn_horizon_days": p.CHURN_HORIZON_DAYS,
            "horizon_end": _when(sim.calendar.midnight(config.days + p.CHURN_HORIZON_DAYS)),
        },
        "summary": {
            "users": len(users),
            "hosts": len(sim.world.hosts),
            "listings": len(listings),
            "registrations": len(registrations),
            "requests_by_status": dict(sorted(requests.items())),
            "sessions": sim.sessions,
            "visitors": sim.visitors,
            "visitor_sessions": sim.visitor_sessions,
            "events_generated": events_generated,
            "personas": dict(sorted(Counter(user.persona for user in users).items())),
            "status_at_end": dict(sorted(Counter(user.status for user in users).items())),
            "persona_separability": round(persona_separability(users), 4),
        },
        "personas": {
            spec.name: {
                "share": spec.share,
                "sessions_per_week": spec.sessions_per_week,
                "trial_only_share": spec.trial_only_share,
                "request_propensity": spec.request_propensity,
                "price_sensitivity": spec.price_sensitivity,
                "weekend_preference": spec.weekend_preference,
                "peak_hour": spec.peak_hour,
                "show_up_propensity": spec.show_up_propensity,
                "churn_hazard": spec.churn_hazard,
            }
            for spec in p.PERSONAS
        },
        "activity_checkpoint": None
        if sim.checkpoint_day is None
        else {
            "day": _day(sim, sim.checkpoint_day),
            "start": _when(sim.calendar.midnight(sim.checkpoint_day)),
            "horizon_days": CHECKPOINT_HORIZON_DAYS,
            "end": _when(sim.calendar.midnight(sim.checkpoint_day + CHECKPOINT_HORIZON_DAYS)),
        },
        "anomalies": [
            {
                "type": window.type,
                "start": _when(window.start),
                "end": _when(window.end),
                "affected_metric": window.affected_metric,
                "magnitude": window.magnitude,
                "gradual": window.gradual,
                "description": window.description,
            }
            for window in sim.anomalies.windows
        ],
        "users": _users(sim),
        "hosts": _hosts(sim),
        "listings": listings,
        "registrations": registrations,
    }


def truth_write(truth: dict[str, Any], *, directory: Path) -> Path:
    """Write atomically (a reader never sees half a file); returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FILE_NAME
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".ground_truth.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(orjson.dumps(truth))
            stream.write(b"\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
