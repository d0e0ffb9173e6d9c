"""Every prediction model the service trains and scores, and the two runs the tasks call.

`prediction_models_train` (weekly, task `train_prediction_models`) trains each model through the
registry (analytics/intelligence/registry.py): a model with too little data is skipped and says so.
`prediction_models_score` (after each hourly metrics run, task `score_prediction_models`) scores with
whatever is active.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from analytics.intelligence.anomalies.service import detect_anomalies
from analytics.intelligence.attendance.model import ATTENDANCE
from analytics.intelligence.attendance.service import event_attendance_predict, listing_forecasts_refresh
from analytics.intelligence.churn.scoring import person_predictions_refresh
from analytics.intelligence.churn.service import CHURN, CONVERSION
from analytics.intelligence.forecasting.revenue import REVENUE_FORECAST
from analytics.intelligence.forecasting.service import revenue_forecasts_refresh
from analytics.intelligence.registry import ModelSpec, NotEnoughData, model_train_and_promote

logger = logging.getLogger("analytics.predictions")

PREDICTION_MODELS: tuple[ModelSpec, ...] = (CHURN, CONVERSION, ATTENDANCE, REVENUE_FORECAST)


def prediction_models_train(*, as_of: datetime | None = None, names: list[str] | None = None) -> dict[str, Any]:
    """Train (and promote or reject) every model, or those named; {name: outcome}."""
    outcomes: dict[str, Any] = {}
    for spec in PREDICTION_MODELS:
        if names and spec.name not in names:
            continue
        try:
            row = model_train_and_promote(spec, as_of=as_of)
        except NotEnoughData as exc:
            logger.info("model.not_enough_data name=%s needed=%s found=%s", spec.name, exc.needed, exc.found)
            outcomes[spec.name] = {"status": "not_enough_data", "needed": exc.needed, "found": exc.found}
            continue
        outcomes[spec.name] = {"status": row.status, "version": row.version, "decision": row.decision}
    return outcomes


def prediction_models_score(*, as_of: datetime | None = None) -> dict[str, Any]:
    """Score with every active model; {what: count}."""
    people = person_predictions_refresh(as_of=as_of)
    listings = listing_forecasts_refresh(as_of=as_of)
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

    def detect_anomalies(self, metric_name: str, days: int = 7) -> list[dict[str, Any]]:
        """[{"metric_name", "date", "expected_value", "actual_value", "z_score", "severity", "breakdown", …}]:
        the anomalous days of a watched series among its last `days` complete business days."""
        return detect_anomalies(metric_name, days)
