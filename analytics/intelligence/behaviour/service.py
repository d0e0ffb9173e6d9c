"""Behaviour profiles: analyse users and store `UserBehaviorProfile` rows, one user or thousands at a time.

- `user_behavior_analyze(user_id=…, days=…)` — the documented analysis of one user over the last `days`
  days (patterns, preferences, risks) with the engagement score (always from its own 90-day window),
  stored on the user's profile; None when the user has no tracked event in the window ("no data").
- `behavior_profiles_refresh(user_ids=…)` — set-based: snapshots for a batch of users, one bulk upsert.
- `behavior_profiles_refresh_stale()` — the incremental refresh the task runs: users active since their
  profile was last analysed, and active users without a profile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max

from analytics import clock
from analytics.errors import ValidationFailed
from analytics.intelligence.behaviour.features import DEFAULT_LOOKBACK_DAYS, BehaviourSnapshot, behaviour_snapshots
from analytics.intelligence.behaviour.profile import BehaviourAnalysis, behaviour_analyse
from analytics.intelligence.churn.scoring import person_prediction
from analytics.intelligence.segments.features import persona_features
from analytics.metrics.periods import business_day
from analytics.models import DailyUserActivity, UserBehaviorProfile

logger = logging.getLogger(__name__)

MAX_DAYS = 365
MAX_PROFILE_AGE = timedelta(hours=24)
_BATCH = 500
_FIELDS = [
    "engagement_score",
    "engagement_trend",
    "activity_patterns",
    "preferences",
    "risk_factors",
    "risk_evidence",
    "persona_features",
    "as_of",
    "lookback_days",
    "model_version",
    "last_analysis_at",
]


def _profile(analysis: BehaviourAnalysis, snapshot: BehaviourSnapshot, now: datetime) -> UserBehaviorProfile:
    return UserBehaviorProfile(
        user_id=analysis.user_id,
        engagement_score=analysis.engagement_score,
        engagement_trend=analysis.engagement_trend,
        activity_patterns=analysis.activity_patterns,
        preferences=analysis.preferences,
        risk_factors=analysis.risk_factors,
        risk_evidence=analysis.risk_evidence,
        persona_features=persona_features(snapshot),
        as_of=snapshot.as_of,
        lookback_days=snapshot.lookback_days,
        model_version=analysis.model_version,
        last_analysis_at=now,
    )


def _store(profiles: list[UserBehaviorProfile]) -> None:
    with transaction.atomic():
        UserBehaviorProfile.objects.bulk_create(
            profiles, batch_size=_BATCH, update_conflicts=True, unique_fields=["user_id"], update_fields=_FIELDS
        )


def behavior_profiles_refresh(*, user_ids: Sequence[str], as_of: datetime | None = None) -> int:
    """Analyse `user_ids` over the default 90-day window ending at `as_of` (default now) and upsert their
    profiles; users without a tracked event in the window are left as they are. Returns profiles written."""
    now = clock.now()
    as_of = as_of or now
    written = 0
    ordered = sorted(set(user_ids))
    for start in range(0, len(ordered), _BATCH):
        snapshots = behaviour_snapshots(user_ids=ordered[start : start + _BATCH], as_of=as_of)
        profiles = [_profile(behaviour_analyse(s), s, now) for s in snapshots.values()]
        _store(profiles)
        written += len(profiles)
    logger.info("behaviour.profiles_refreshed users=%d written=%d", len(ordered), written)
    return written


def behavior_profiles_refresh_stale(*, as_of: datetime | None = None) -> int:
    """The incremental refresh: active users (a user-initiated event in the 90-day window) whose profile is
    missing, who were active on or after the day of their last analysis, or whose analysis is older than
    a day (an engagement score decays while a user stays away). Who was active when is read from the
    activity rollup (`DailyUserActivity`), as fresh as the last metrics run (hourly)."""
    as_of = as_of or clock.now()
    first_day = business_day(as_of - timedelta(days=DEFAULT_LOOKBACK_DAYS))
    last_active = dict(
        DailyUserActivity.objects.filter(day__gte=first_day, day__lte=business_day(as_of))
        .values("user_id")
        .annotate(last=Max("day"))
        .values_list("user_id", "last")
        .order_by()
    )
    analysed = dict(UserBehaviorProfile.objects.values_list("user_id", "last_analysis_at"))
    stale = [
        user
        for user, last in last_active.items()
        if user not in analysed or last >= business_day(analysed[user]) or as_of - analysed[user] > MAX_PROFILE_AGE
    ]
    return behavior_profiles_refresh(user_ids=stale, as_of=as_of)


def user_behavior_analyze(*, user_id: str, days: int = 30) -> dict[str, Any]:
    """The documented analysis of one user (and their refreshed profile). A user with no tracked event in
    the window gets `status: "no_data"` and nothing else — never a made-up profile."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1…{MAX_DAYS}", code="invalid_days")
    now = clock.now()
    window = behaviour_snapshots(user_ids=[user_id], as_of=now, lookback_days=days).get(user_id)
    if window is None:
        return {
            "user_id": user_id,
            "days": days,
            "as_of": now,
            "status": "no_data",
            "message": f"no tracked event of this user in the last {days} days",
        }
    scored = window
    if days != DEFAULT_LOOKBACK_DAYS:
        scored = behaviour_snapshots(user_ids=[user_id], as_of=now).get(user_id) or window
    stored = behaviour_analyse(scored)
    _store([_profile(stored, scored, now)])
    analysis = behaviour_analyse(window)
    profile = UserBehaviorProfile.objects.select_related("primary_persona").get(user_id=user_id)
    persona = profile.primary_persona
    predicted = person_prediction(user_id=user_id, as_of=now)
    return {
        "user_id": user_id,
        "days": days,
        "as_of": now,
        "status": "ok",
        "engagement_score": stored.engagement_score,
        "engagement_trend": analysis.engagement_trend,
        "activity_patterns": analysis.activity_patterns,
        "preferences": analysis.preferences,
        "risk_factors": analysis.risk_factors,
        "risk_evidence": analysis.risk_evidence,
        "persona_suggestions": [persona.name] if persona is not None else [],
        "primary_persona": None
        if persona is None
        else {"id": persona.id, "name": persona.name, "strength": profile.persona_strength},
        "churn_risk": predicted["churn_risk"],
        "predictions": {
            "active_next_30_days_probability": stored.engagement_score,
            "engagement_trend": analysis.engagement_trend,
            "churn_risk": predicted["churn_risk"],
            "conversion_probability": predicted["conversion_probability"],
            "status": predicted["status"],
        },
        "model_version": stored.model_version,
    }


class UserBehaviorAnalysisService:
    """The documented face: `UserBehaviorAnalysisService().analyze_user_behavior(user_id, days=30)`."""

    def analyze_user_behavior(self, user_id: str | int, days: int = 30) -> dict[str, Any]:
        return user_behavior_analyze(user_id=str(user_id), days=days)
