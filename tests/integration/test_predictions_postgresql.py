"""The prediction models on the real stack: a simulated platform in PostgreSQL, and a real Celery worker
that trains every model through the registry (temporal split, stored artefact loaded back, promotion) and
then scores with them — as beat and the metrics task make it do in production. The artefacts the worker
stored load in another process (this one) from the database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from analytics import clock
from analytics.intelligence.churn.features import churn_features
from analytics.intelligence.registry import model_active_estimator
from analytics.metrics.periods import business_today
from analytics.models import EventListing, ListingAttendanceForecast, PredictionModel, UserEvent, UserPrediction
from analytics.models.predictions import ModelStatus
from analytics.simulator import config_build, simulation_run
from analytics.simulator.sinks import InProcessSink
from analytics.tasks import score_prediction_models, train_prediction_models
from tests.integration.support import ServiceProcess, wait_until

MODELS = ("churn", "conversion", "attendance")


def test_the_worker_trains_promotes_and_scores_every_model_on_postgresql(
    celery_worker: ServiceProcess, enqueue_after_commit: None, tmp_path: Path
) -> None:
    config = config_build(
        users=1800,
        days=120,
        seed=5,
        end_date=None,
        time_zone=settings.ANALYTICS_TIME_ZONE,
        today=business_today(),
        batch_size=5000,
    )
    # Stored here, processed by the worker (as ingestion is in production): the in-process final pass would
    # process the same rows as the worker at the same time.
    simulation_run(config=config, sink=InProcessSink(), data_dir=tmp_path, progress=False, defer_processing=False)
    wait_until(
        lambda: not UserEvent.objects.filter(processed_at__isnull=True).exists(),
        timeout=300,
        what="every simulated event to be processed",
        alive=[celery_worker],
    )

    train_prediction_models.delay()
    wait_until(
        lambda: PredictionModel.objects.filter(name__in=MODELS, status=ModelStatus.ACTIVE).count() == len(MODELS),
        timeout=300,
        interval=2,
        what="the worker to train and promote churn, conversion and attendance",
        alive=[celery_worker],
    )
    for name in MODELS:
        row = PredictionModel.objects.get(name=name, status=ModelStatus.ACTIVE)
        assert row.version == 1 and row.artefact_bytes > 0 and row.evaluation["auc"] > 0.5, row.evaluation
        active = model_active_estimator(name)  # this process loads what the worker stored
        assert active is not None and active[0].id == row.id

    score_prediction_models.delay()
    wait_until(
        lambda: UserPrediction.objects.exists() and ListingAttendanceForecast.objects.exists(),
        timeout=300,
        interval=2,
        what="the worker to score users and forecast listings",
        alive=[celery_worker],
    )
    population = set(churn_features(as_of=clock.now()).user_ids)
    scored = set(UserPrediction.objects.values_list("user_id", flat=True))
    assert scored and scored <= population and len(scored) >= 0.9 * len(population)
    assert not UserPrediction.objects.filter(churn_risk__isnull=True).exists()
    upcoming = EventListing.objects.filter(starts_at__gt=clock.now(), cancelled_at__isnull=True).count()
    assert 0 < ListingAttendanceForecast.objects.count() <= upcoming
