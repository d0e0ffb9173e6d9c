"""The behavioural features personas are found from: one named vector per user with enough behaviour.

Rates, not counts — how a person uses Loopin, whatever their tenure: how often they come (sessions per
active week), how much they browse per visit, search, ask to join, invite, with how many seats; when they
come (weekend share, hour of day as a point on the clock); how focused their tastes are (entropy of the
categories they view) and what prices they look at. A user needs `MIN_SESSIONS` browsing sessions in the
window to get a vector (fewer is not enough behaviour to say who they are); others get None.
"""

from __future__ import annotations

import math

from analytics.intelligence.behaviour.features import BehaviourSnapshot

MIN_SESSIONS = 3
# Every feature a persona is described by (its centre, its name) …
FEATURES = (
    "sessions_per_week",
    "views_per_session",
    "searches_per_session",
    "request_rate",
    "invites_per_session",
    "seats_per_request",
    "weekend_share",
    "hour_sin",
    "hour_cos",
    "category_entropy",
    "viewed_price",
)
# … and those it is found from: the entropy of viewed categories and the price of viewed listings tell
# personas apart too little to earn a dimension of the clustering (docs/evaluation.md, "Segments").
CLUSTER_FEATURES = tuple(f for f in FEATURES if f not in ("category_entropy", "viewed_price"))


def persona_features(snapshot: BehaviourSnapshot) -> dict[str, float] | None:
    sessions = snapshot.sessions
    n = len(sessions)
    if n < MIN_SESSIONS or snapshot.first_event_at is None:
        return None
    last = max(s.started_at for s in sessions)
    weeks = max(((last - snapshot.first_event_at).total_seconds() / 86400.0 + 7.0) / 7.0, 1.0)
    views = snapshot.events.get("event_viewed", 0)
    requests = snapshot.events.get("event_requested", 0)
    starts = snapshot.local_starts()
    angles = [2 * math.pi * (t.hour + t.minute / 60.0) / 24.0 for t in starts]
    categories = sum(snapshot.categories.values())
    entropy = (
        -sum((c / categories) * math.log(c / categories) for c in snapshot.categories.values() if c)
        if categories
        else 0.0
    )
    prices = snapshot.viewed_prices
    return {
        "sessions_per_week": round(math.log(n / weeks), 6),
        "views_per_session": round(math.log1p(views / n), 6),
        "searches_per_session": round(snapshot.events.get("search_performed", 0) / n, 6),
        "request_rate": round((requests + 0.5) / (views + 5.0), 6),
        "invites_per_session": round(snapshot.events.get("event_invite_sent", 0) / n, 6),
        "seats_per_request": round(sum(snapshot.seats_requested) / len(snapshot.seats_requested), 6)
        if snapshot.seats_requested
        else 1.0,
        "weekend_share": round(sum(1 for t in starts if t.weekday() >= 5) / n, 6),
        "hour_sin": round(sum(math.sin(a) for a in angles) / n, 6),
        "hour_cos": round(sum(math.cos(a) for a in angles) / n, 6),
        "category_entropy": round(entropy, 6),
        "viewed_price": round(math.log1p(sum(prices) / len(prices)), 6) if prices else 0.0,
    }
