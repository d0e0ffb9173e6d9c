"""The prediction models on the real stack: a simulated platform in PostgreSQL, and a real Celery worker
that trains every model through the registry (temporal split, stored artefact loaded back, promotion) and
then scores with them — as beat and the metrics task make it do in production — and generates insights.
The artefacts the worker stored load in another process (this one) from the database."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from analytics import clock
from analytics.intelligence.anomalies.series import SERIES
from analytics.intelligence.anomalies.service import MAX_DAYS, anomalies_find
from analytics.intelligence.churn.features import churn_features
from analytics.intelligence.insights.service import insights_generate
from analytics.intelligence.recommendations.service import recommendations_for
from analytics.intelligence.recommendations.tastes import LOOKBACK_DAYS, tastes_read
from analytics.intelligence.registry import model_active_estimator
from analytics.metrics.periods import business_day, business_today
from analytics.metrics.rollups import rollups_rebuild
from analytics.models import (
    AIInsight,
    DetectedAnomaly,
    EventListing,
    ListingAttendanceForecast,
    PredictionModel,
    RevenueForecast,
    UserBehaviorProfile,
    UserEvent,
    UserPrediction,
)
from analytics.models.predictions import ModelStatus
from analytics.simulator import simulation_run
from analytics.simulator.sinks import InProcessSink
from analytics.tasks import (
    detect_anomalies_batch,
    generate_predictive_insights,
    score_prediction_models,
    train_prediction_models,
)
from tests.integration.events import platform_until_today
from tests.integration.support import ServiceProcess, wait_until

MODELS = ("churn", "conversion", "attendance", "revenue_forecast")


def test_the_worker_trains_promotes_and_scores_every_model_on_postgresql(
    celery_worker: ServiceProcess, enqueue_after_commit: None, tmp_path: Path
) -> None:
    config = platform_until_today(users=1800, days=120, seed=5, anomalies=True)
    # Stored here, processed by the worker (as ingestion is in production): the in-process final pass would
    # process the same rows as the worker at the same time.
    report = simulation_run(
        config=config, sink=InProcessSink(), data_dir=tmp_path, progress=False, defer_processing=False
    )
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
        what="the worker to train and promote churn, conversion, attendance and the revenue forecast",
        alive=[celery_worker],
    )
    for name in MODELS:
        row = PredictionModel.objects.get(name=name, status=ModelStatus.ACTIVE)
        assert row.version == 1 and row.artefact_bytes > 0, row.evaluation
        assert row.evaluation[row.primary_metric] > (0.5 if row.primary_metric == "auc" else -1.0), row.evaluation
        active = model_active_estimator(name)  # this process loads what the worker stored
        assert active is not None and active[0].id == row.id

    # Three people of the population have behaviour profiles: scoring gives them the same two numbers.
    profiled = sorted(churn_features(as_of=clock.now()).user_ids)[:3]
    UserBehaviorProfile.objects.bulk_create(
        [
            UserBehaviorProfile(
                user_id=user,
                engagement_score=0.5,
                engagement_trend="stable",
                as_of=clock.now(),
                lookback_days=30,
                model_version="test",
                last_analysis_at=clock.now(),
            )
            for user in profiled
        ]
    )
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
    predicted = {p.user_id: p for p in UserPrediction.objects.filter(user_id__in=profiled)}
    for profile in UserBehaviorProfile.objects.filter(user_id__in=profiled):
        mine = predicted[profile.user_id]
        assert (profile.churn_risk_score, profile.conversion_probability) == (
            mine.churn_risk,
            mine.conversion_probability,
        )
        assert profile.churn_risk_score is not None and profile.predicted_at == mine.scored_at
    upcoming = EventListing.objects.filter(starts_at__gt=clock.now(), cancelled_at__isnull=True).count()
    assert 0 < ListingAttendanceForecast.objects.count() <= upcoming
    assert RevenueForecast.objects.filter(scope="").count() == 28

    # Anomalies: the worker judges the rollups (built here for the simulated days) with PostgreSQL's SQL,
    # backfilling the longest span it accepts (90 days: the drop, at day 30 of 120, is its first). The demo's
    # two-day traffic drop (to 40%) is an incident a platform of this size shows plainly; its conversion
    # decay and payment spike need a larger one (docs/evaluation.md).
    first = business_today() - timedelta(days=config.days)
    rollups_rebuild(days=[first + timedelta(days=i) for i in range(config.days)])
    task = detect_anomalies_batch.delay(days=MAX_DAYS)
    wait_until(
        lambda: f"detect_anomalies_batch[{task.id}] succeeded" in celery_worker.log_text(),
        timeout=300,
        interval=2,
        what="the worker to judge every watched series over the window",
        alive=[celery_worker],
    )
    truth = orjson.loads(report.truth_path.read_bytes())
    drop = next(a for a in truth["anomalies"] if a["type"] == "traffic_drop")
    drop_day = business_day(datetime.fromisoformat(drop["start"]))
    stored = {(a.metric_name, a.day): a for a in DetectedAnomaly.objects.all()}
    assert ("daily_active_users", drop_day) in stored, sorted(stored)
    assert stored["daily_active_users", drop_day].direction == "down"
    # What the worker stored is what this process finds in the same rows.
    judged_here = {
        (a.metric_name, a.date)
        for spec in SERIES
        for a in anomalies_find(metric_name=spec.metric, days=MAX_DAYS, as_of=clock.now())
    }
    assert set(stored) == judged_here

    # Insights: the worker runs every generator on what it trained, scored and detected; a second generation
    # here finds the same things and refreshes them (one open insight per finding, PostgreSQL's partial index).
    task = generate_predictive_insights.delay()
    wait_until(
        lambda: f"generate_predictive_insights[{task.id}] succeeded" in celery_worker.log_text(),
        timeout=300,
        interval=2,
        what="the worker to generate insights",
        alive=[celery_worker],
    )
    churn = PredictionModel.objects.get(name="churn", status=ModelStatus.ACTIVE)
    cohort = AIInsight.objects.get(dedup_key="churn_risk_cohort:high_risk")
    assert cohort.model_version == str(churn.version) and cohort.evidence["cohort_size"] >= 30
    assert AIInsight.objects.filter(insight_type="revenue_outlook", target_type="platform").count() == 1
    opened = AIInsight.objects.count()
    assert all(i.evidence.get("comparison_group") for i in AIInsight.objects.all())
    again = insights_generate()
    assert again.created == 0 and again.refreshed == opened and again.failed == {}

    # Recommendations on PostgreSQL: a person's searches (a JSON property) and history read as SQLite reads
    # them, and nothing they asked to join, nothing started.
    now = clock.now()
    searchers = set(UserEvent.objects.filter(event_name="search_performed").values_list("user_id", flat=True))
    person = next(
        u
        for u in UserEvent.objects.filter(event_name="event_checked_in").values_list("user_id", flat=True)
        if u in searchers
    )
    searched = Counter(
        e.properties["category"]
        for e in UserEvent.objects.filter(
            user_id=person, event_name="search_performed", timestamp__gte=now - timedelta(days=LOOKBACK_DAYS)
        )
    )
    taste = tastes_read([person], now=now)[person]
    assert {key[1]: n for key, n in taste.counts.items() if key[0] == "search_performed"} == searched
    result = recommendations_for(user_id=person)
    assert result["status"] == "ok" and len(result["recommendations"]) == 10
    asked = set(
        UserEvent.objects.filter(user_id=person, event_name="event_requested").values_list("listing_id", flat=True)
    )
    assert not asked & {r["listing_id"] for r in result["recommendations"]}
    assert all(r["starts_at"] > now and r["reason"] for r in result["recommendations"])
