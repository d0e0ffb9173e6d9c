"""Bulk scoring of churn risk and conversion probability with the active registry versions.

Run by `score_prediction_models` after each hourly metrics run: the population now (users with a
user-initiated event in the last 30 days) is scored with the active `churn` and `conversion` models;
each user's `UserPrediction` of the business day is written (upserted, so the newest scoring of the day
wins) and their `UserBehaviorProfile`, where one exists, gets the same two numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from django.db import connection, transaction
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
    users = list(frame.user_ids)
    churn_values = None if churn is None else [round(float(v), 6) for v in churn]
    conversion_values = None if conversion is None else [round(float(v), 6) for v in conversion]
    write = _write_postgresql if connection.vendor == "postgresql" else _write_orm
    write(
        users,
        day=day,
        now=now,
        churn=churn_values,
        conversion=conversion_values,
        versions=(churn_version, conversion_version),
    )
    high = int((churn >= HIGH_CHURN_RISK).sum()) if churn is not None else 0
    logger.info("predictions.people_scored users=%d high_risk=%d", len(users), high)
    return PersonScoring(len(users), churn_version, conversion_version, high)


def _write_orm(
    users: list[str],
    *,
    day: date,
    now: datetime,
    churn: list[float] | None,
    conversion: list[float] | None,
    versions: tuple[int | None, int | None],
) -> None:
    """The day's predictions upserted, and the profiles given the same numbers (any database)."""
    rows = [
        UserPrediction(
            user_id=user,
            scored_on=day,
            scored_at=now,
            churn_risk=None if churn is None else churn[i],
            conversion_probability=None if conversion is None else conversion[i],
            churn_model_version=versions[0],
            conversion_model_version=versions[1],
        )
        for i, user in enumerate(users)
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


def _write_postgresql(
    users: list[str],
    *,
    day: date,
    now: datetime,
    churn: list[float] | None,
    conversion: list[float] | None,
    versions: tuple[int | None, int | None],
) -> None:
    """The same as `_write_orm` in two statements: the whole population travels as three arrays
    (`unnest`), instead of tens of thousands of bound rows in batches."""
    blank: list[float | None] = [None] * len(users)
    arrays = [users, churn if churn is not None else blank, conversion if conversion is not None else blank]
    predictions, profiles = UserPrediction._meta.db_table, UserBehaviorProfile._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {predictions} (user_id, scored_on, scored_at, churn_risk, conversion_probability,
                churn_model_version, conversion_model_version)
            SELECT t.u, %s, %s, t.c, t.p, %s, %s FROM unnest(%s::text[], %s::float8[], %s::float8[]) AS t(u, c, p)
            ON CONFLICT (user_id, scored_on) DO UPDATE SET scored_at = EXCLUDED.scored_at,
                churn_risk = EXCLUDED.churn_risk, conversion_probability = EXCLUDED.conversion_probability,
                churn_model_version = EXCLUDED.churn_model_version,
                conversion_model_version = EXCLUDED.conversion_model_version
            """,  # noqa: S608 (table names from the models; values are parameters)
            [day, now, versions[0], versions[1], *arrays],
        )
        cursor.execute(
            f"""
            UPDATE {profiles} AS p SET churn_risk_score = t.c, conversion_probability = t.p, predicted_at = %s
            FROM unnest(%s::text[], %s::float8[], %s::float8[]) AS t(u, c, p) WHERE p.user_id = t.u
            """,  # noqa: S608
            [now, *arrays],
        )


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
