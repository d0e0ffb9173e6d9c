"""Recommendations for one person now: `GET /api/analytics/users/{user_id}/recommendations` and
`PredictiveAnalyticsService().generate_recommendations(user_id, limit=10)`.

An unknown person (no tracked event with that user id) is a 404; no open listing at all is an explicit
`not_enough_data`; a person with no listing history gets `cold_start` recommendations (their home city and
what is popular). Nothing is stored: the ranking is computed from the events as they are, with the host
factors of the active `recommendations` version in the model registry (without them until one is trained).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics import clock
from analytics.errors import NotFound, ValidationFailed
from analytics.intelligence.recommendations.candidates import open_listings, open_listings_now
from analytics.intelligence.recommendations.model import RECOMMENDATIONS
from analytics.intelligence.recommendations.ranking import rank
from analytics.intelligence.recommendations.tastes import tastes_read
from analytics.intelligence.registry import model_active_estimator
from analytics.models import UserEvent

MODEL = "hybrid ranking: content, popularity and host factors"
MAX_LIMIT = 50


def recommendations_for(*, user_id: str, limit: int = 10, as_of: datetime | None = None) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit is 1…{MAX_LIMIT}", code="invalid_limit", details={"limit": limit})
    now = as_of or clock.now()
    taste = tastes_read([user_id], now=now)[user_id]
    if not taste.seen and not UserEvent.objects.filter(user_id=user_id).exists():  # asked only when nothing was read
        raise NotFound(f"no user {user_id!r}", code="user_not_found")
    candidates = open_listings(now) if as_of is not None else open_listings_now(now)
    active = model_active_estimator(RECOMMENDATIONS.name)
    factors = active[1] if active is not None else None
    base: dict[str, Any] = {
        "user_id": user_id,
        "as_of": now,
        "model": (
            "hybrid ranking: content and popularity (no host factors trained yet)"
            if factors is None
            else MODEL
            if factors.weight > 0
            else "hybrid ranking: content and popularity (this version's host factors did not help on its holdout)"
        ),
        "model_version": str(active[0].version) if active is not None else "",
    }
    open_to = [c for c in candidates if c.listing_id not in taste.requested]
    if not open_to:
        return {
            **base,
            "status": "not_enough_data",
            "message": "no open listing to recommend: none upcoming with seats that this person has not asked to join",
            "recommendations": [],
        }
    return {
        **base,
        "status": "cold_start" if taste.cold else "ok",
        "message": (
            (
                "no listing history yet: ranked by their searches, home city and popularity"
                if taste.searched
                else "no listing history yet: ranked by home city and popularity"
            )
            if taste.cold
            else ""
        ),
        "recommendations": [
            {
                "listing_id": r.candidate.listing_id,
                "title": r.candidate.title,
                "category": r.candidate.category,
                "city": r.candidate.city,
                "host_id": r.candidate.host_id,
                "price": r.candidate.price,
                "starts_at": r.candidate.starts_at,
                "seats_left": r.candidate.seats_left,
                "score": round(r.score, 4),
                "reason": r.reason,
            }
            for r in rank(taste, candidates, limit=limit, factors=factors)
        ],
    }
