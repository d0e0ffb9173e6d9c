"""Prediction tasks: train every model weekly (through the registry), score after each metrics run."""

from __future__ import annotations

import logging
from typing import Any

from analytics.intelligence.predictions import prediction_models_score, prediction_models_train, scheduled_freshness
from analytics.tasks.policy import database_task, fresh_connections

logger = logging.getLogger(__name__)


@database_task(name="analytics.tasks.predictions.train_prediction_models", soft_time_limit=3300, time_limit=3600)
def train_prediction_models(names: list[str] | None = None, force: bool = False) -> dict[str, Any]:
    """Train a candidate of every prediction model (or those named) and promote it unless it fails to load
    or evaluates worse than the active version; too little data is reported, not retried. A model trained
    within the last 90% of the training interval is left alone unless `force` (a restarted scheduler runs
    this at once)."""
    fresh_for = None if force else scheduled_freshness()
    with fresh_connections():
        return prediction_models_train(names=names, fresh_for=fresh_for)


@database_task(name="analytics.tasks.predictions.score_prediction_models", soft_time_limit=1700, time_limit=1800)
def score_prediction_models() -> dict[str, Any]:
    """Score everyone with the active models (churn risk, conversion probability). Idempotent: the
    newest scoring of a business day replaces that day's."""
    with fresh_connections():
        return prediction_models_score()


def enqueue_scoring() -> None:
    try:
        score_prediction_models.apply_async(retry=False, expires=3000)
    except Exception as exc:  # broker down: the next metrics run enqueues it again
        logger.warning("predictions.enqueue_scoring_failed error=%s", type(exc).__name__)
