"""Bulk scoring of churn risk and conversion probability with the active registry versions.

Run by `score_prediction_models` after each hourly metrics run: the population now (users with a
user-initiated event in the last 30 days) is scored with the active `churn` and `conversion` models;
each user's `UserPrediction` of the business day is written (upserted, so the newest scoring of the day
wins) and their `UserBehaviorProfile`, where one exists, gets the same two numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db.models import OuterRef, Subquery

from analytics import clock
from analytics.intelligence.churn.features import FeatureFrame, churn_features
from analytics.intelligence.registry import model_active_estimator
from analytics.metrics.periods import business_today
from analytics.models import UserBehaviorProfile, UserPrediction

logger = logging.getLogger("analytics.predictions")
_WRITE_BATCH = 2_000


@dataclass(frozen=True)
class PersonScoring:
    scored: int
    churn_version: int | None
    conversion_version: int | None
    high_risk: int  # churn risk ≥ HIGH_CHURN_RISK


HIGH_CHURN_RISK = 0.7


def _predict(active: tuple[Any, Any] | None, frame: FeatureFrame) -> tuple[np.ndarray | None, int | None]:
    if active is None or frame.rows == 0:
        return None, None
    row, estimator = active
    return np.asarray(estimator.predict(frame), dtype=float), row.version


def person_predictions_refresh(*, as_of: datetime | None = None) -> PersonScoring:
    """Score the population at `as_of` (default now) and store the predictions; 0 scored when no churn or
    conversion model is active yet."""
    now = as_of or clock.now()
    churn_model, conversion_model = model_active_estimator("churn"), model_active_estimator("conversion")
    if churn_model is None and conversion_model is None:
        return PersonScoring(0, None, None, 0)  # before the features are read: they are the expensive part
    frame = churn_features(as_of=now)
    churn, churn_version = _predict(churn_model, frame)
    conversion, conversion_version = _predict(conversion_model, frame)
    if churn is None and conversion is None:
        return PersonScoring(0, None, None, 0)
    day = business_today(now)
    rows = [
        UserPrediction(
            user_id=user,
            scored_on=day,
            scored_at=now,
            churn_risk=None if churn is None else round(float(churn[i]), 6),
            conversion_probability=None if conversion is None else round(float(conversion[i]), 6),
            churn_model_version=churn_version,
            conversion_model_version=conversion_version,
        )
        for i, user in enumerate(frame.user_ids)
    ]
    UserPrediction.objects.bulk_create(
        rows,
        batch_size=_WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["user_id", "scored_on"],
        update_fields=[
            "scored_at",
            "churn_risk",
            "conversion_probability",
            "churn_model_version",
            "conversion_model_version",
        ],
    )
    # The profiles take the scores just written, in one set-based UPDATE (each row's own prediction found
    # through the (user_id, scored_on) unique index), not a CASE per user.
    mine = UserPrediction.objects.filter(user_id=OuterRef("user_id"), scored_on=day)
    UserBehaviorProfile.objects.filter(
        user_id__in=UserPrediction.objects.filter(scored_on=day, scored_at=now).values("user_id")
    ).update(
        churn_risk_score=Subquery(mine.values("churn_risk")[:1]),
        conversion_probability=Subquery(mine.values("conversion_probability")[:1]),
        predicted_at=now,
    )
    high = int((churn >= HIGH_CHURN_RISK).sum()) if churn is not None else 0
    logger.info("predictions.people_scored users=%d high_risk=%d", len(rows), high)
    return PersonScoring(len(rows), churn_version, conversion_version, high)


def person_prediction(*, user_id: str, as_of: datetime | None = None) -> dict[str, Any]:
    """Churn risk and conversion probability of one user now, from the active models: `status` is `ok`,
    `not_enough_data` (no model trained yet) or `not_at_risk_population` (no user-initiated event in the
    last 30 days: already gone, which the engagement score shows)."""
    now = as_of or clock.now()
    churn = model_active_estimator("churn")
    conversion = model_active_estimator("conversion")
    if churn is None and conversion is None:
        return {"status": "not_enough_data", "churn_risk": None, "conversion_probability": None}
    frame = churn_features(as_of=now, user_ids=[user_id])
    if frame.rows == 0:
        return {"status": "not_at_risk_population", "churn_risk": None, "conversion_probability": None}
    return {
        "status": "ok",
        "churn_risk": None if churn is None else round(float(churn[1].predict(frame)[0]), 4),
        "conversion_probability": None if conversion is None else round(float(conversion[1].predict(frame)[0]), 4),
        "churn_model_version": None if churn is None else churn[0].version,
        "conversion_model_version": None if conversion is None else conversion[0].version,
    }
