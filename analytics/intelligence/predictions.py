"""Every prediction model the service trains and scores, and the two runs the tasks call.

`prediction_models_train` (weekly, task `train_prediction_models`) trains each model through the
registry (analytics/intelligence/registry.py): a model with too little data is skipped and says so.
`prediction_models_score` (after each hourly metrics run, task `score_prediction_models`) scores with
whatever is active.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from analytics import clock
from analytics.intelligence.anomalies.service import detect_anomalies
from analytics.intelligence.attendance.model import ATTENDANCE
from analytics.intelligence.attendance.service import ForecastRun, event_attendance_predict, listing_forecasts_refresh
from analytics.intelligence.churn.scoring import PersonScoring, person_predictions_refresh
from analytics.intelligence.churn.service import CHURN, CONVERSION, splits_shared
from analytics.intelligence.forecasting.revenue import REVENUE_FORECAST
from analytics.intelligence.forecasting.service import revenue_forecasts_refresh
from analytics.intelligence.recommendations.model import RECOMMENDATIONS
from analytics.intelligence.recommendations.service import recommendations_for
from analytics.intelligence.registry import ModelSpec, NotEnoughData, model_train_and_promote
from analytics.models import PredictionModel

logger = logging.getLogger("analytics.predictions")

PREDICTION_MODELS: tuple[ModelSpec, ...] = (CHURN, CONVERSION, ATTENDANCE, REVENUE_FORECAST, RECOMMENDATIONS)


def scheduled_freshness() -> timedelta:
    """How long a trained version stays fresh for the schedule: 90% of the training interval."""
    return timedelta(hours=0.9 * settings.ANALYTICS_MODEL_TRAINING_INTERVAL_HOURS)


def _trained_since(name: str, since: datetime) -> PredictionModel | None:
    return PredictionModel.objects.filter(name=name, trained_at__gte=since).order_by("-trained_at").first()


def prediction_models_train(
    *, as_of: datetime | None = None, names: list[str] | None = None, fresh_for: timedelta | None = None
) -> dict[str, Any]:
    """Train (and promote or reject) every model, or those named, as of one instant; {name: outcome}.

    With `fresh_for`, a model that has a version trained within it is left alone (`fresh`): a scheduler that
    restarts (beat, the embedded one at every server start) runs the task at once, and retraining what was
    trained an hour ago would only spend the hour again."""
    with splits_shared():  # churn and conversion read the same features once
        return _train(as_of=as_of or clock.now(), names=names, fresh_for=fresh_for)


def _train(*, as_of: datetime, names: list[str] | None, fresh_for: timedelta | None) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    for spec in PREDICTION_MODELS:
        if names and spec.name not in names:
            continue
        recent = _trained_since(spec.name, clock.now() - fresh_for) if fresh_for else None
        if recent is not None:
            outcomes[spec.name] = {
                "status": "fresh",
                "version": recent.version,
                "trained_at": recent.trained_at.isoformat(),
            }
            continue
        try:
            row = model_train_and_promote(spec, as_of=as_of)
        except NotEnoughData as exc:
            logger.info("model.not_enough_data name=%s needed=%s found=%s", spec.name, exc.needed, exc.found)
            outcomes[spec.name] = {"status": "not_enough_data", "needed": exc.needed, "found": exc.found}
            continue
        outcomes[spec.name] = {"status": row.status, "version": row.version, "decision": row.decision}
    return outcomes


def everyone_score(*, as_of: datetime | None = None) -> tuple[PersonScoring, ForecastRun]:
    """Churn risk and conversion of every active person, and the forecast of every upcoming listing, at one
    instant. On PostgreSQL the two run side by side, each on its own connection: the people's feature read
    waits on the database (its parallel scan) while the listings' history is worked in Python, so together
    they take about as long as the longer one. SQLite serialises writers: there, one after the other."""
    now = as_of or clock.now()
    if connection.vendor != "postgresql":
        return person_predictions_refresh(as_of=now), listing_forecasts_refresh(as_of=now)

    def listings_on_own_connection() -> ForecastRun:
        try:
            return listing_forecasts_refresh(as_of=now)
        finally:
            connection.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="listing-forecasts") as pool:
        listings = pool.submit(listings_on_own_connection)
        people = person_predictions_refresh(as_of=now)
        return people, listings.result()


def prediction_models_score(*, as_of: datetime | None = None) -> dict[str, Any]:
    """Score with every active model; {what: count}."""
    people, listings = everyone_score(as_of=as_of)
    revenue = revenue_forecasts_refresh(as_of=as_of)
    return {
        "people": people.scored,
        "high_churn_risk": people.high_risk,
        "churn_version": people.churn_version,
        "conversion_version": people.conversion_version,
        "listings": listings.listings,
        "attendance_version": listings.model_version,
        "revenue_scopes": revenue.scopes,
        "revenue_version": revenue.model_version,
    }


class PredictiveAnalyticsService:
    """The documented face of the predictions (`from analytics.ai_services import PredictiveAnalyticsService`)."""

    def predict_event_attendance(self, user_id: str | int, listing_id: str | int) -> dict[str, Any]:
        """{"probability", "confidence", "factors", …}: will this person check in to this listing?"""
        return event_attendance_predict(user_id=str(user_id), listing_id=str(listing_id))

    def generate_recommendations(self, user_id: str | int, limit: int = 10) -> list[dict[str, Any]]:
        """[{"listing_id", "title", "category", "city", "starts_at", "seats_left", "score", "reason", …}]: upcoming,
        open listings the person has not asked to join, best first (docs/recommendations.md)."""
        result: list[dict[str, Any]] = recommendations_for(user_id=str(user_id), limit=limit)["recommendations"]
        return result

    def detect_anomalies(self, metric_name: str, days: int = 7) -> list[dict[str, Any]]:
        """[{"metric_name", "date", "expected_value", "actual_value", "z_score", "severity", "breakdown", …}]:
        the anomalous days of a watched series among its last `days` complete business days."""
        return detect_anomalies(metric_name, days)
