"""`AIServiceManager` (recommendations-and-insights issue, "one entry point to every AI service, with each
one's model version and health"): each capability reports the model serving it, its version and whether it
is fresh — read from where each keeps it, so a service that stopped refreshing shows as stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from analytics import clock
from analytics.ai_services import (
    AIServiceManager,
    PredictiveAnalyticsService,
    SentimentAnalysisService,
    UserBehaviorAnalysisService,
    UserClusteringService,
)
from analytics.intelligence.manager import ANOMALY_TASK, INSIGHTS_TASK
from analytics.intelligence.sentiment.combiner import committed_parameters
from analytics.models import PredictionModel, TaskRun, UserBehaviorProfile, UserPersona

NOW = datetime.fromisoformat("2026-03-10T12:00:00+00:00")
NAMES = [
    "sentiment",
    "behaviour",
    "personas",
    "churn",
    "conversion",
    "attendance",
    "revenue_forecast",
    "recommendations",
    "anomalies",
    "insights",
]


@pytest.fixture
def now() -> Iterator[datetime]:
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


def _statuses() -> dict[str, str]:
    return {s.name: s.status for s in AIServiceManager().services()}


@pytest.mark.django_db
def test_a_new_install_reports_every_service_and_what_is_not_trained_yet(now: datetime) -> None:
    services = {s.name: s for s in AIServiceManager().services()}
    assert list(services) == NAMES
    assert services["sentiment"].status == "ok" and services["sentiment"].version == committed_parameters().version
    assert {name for name, s in services.items() if s.status == "not_trained"} == set(NAMES) - {"sentiment"}
    assert "not enough data" in services["churn"].detail and services["churn"].version is None
    assert AIServiceManager().health()["status"] == "degraded"


@pytest.mark.django_db
def test_refreshed_services_are_ok_and_the_ones_whose_schedule_stopped_turn_stale(now: datetime) -> None:
    """Catches: a version or freshness read from the wrong place, or a stale service reported as ok."""
    UserBehaviorProfile.objects.create(
        user_id="u1",
        engagement_score=0.5,
        engagement_trend="stable",
        as_of=NOW,
        lookback_days=90,
        model_version="engagement-x",
        last_analysis_at=NOW - timedelta(hours=1),
    )
    UserPersona.objects.create(
        run_id="r1", name="power_user", description="d", size=40, confidence=0.8, model_version="m", created_at=NOW
    )
    for name in ("churn", "conversion", "attendance", "revenue_forecast", "recommendations"):
        PredictionModel.objects.create(
            name=name, version=3, status="active", algorithm=f"{name} algorithm", trained_at=NOW - timedelta(days=1)
        )
    TaskRun.objects.create(name=ANOMALY_TASK, started_at=NOW, finished_at=NOW - timedelta(minutes=10), succeeded=True)
    TaskRun.objects.create(name=INSIGHTS_TASK, started_at=NOW, finished_at=NOW - timedelta(hours=2), succeeded=True)

    services = {s.name: s for s in AIServiceManager().services()}
    assert all(s.status == "ok" for s in services.values()), {n: s.detail for n, s in services.items()}
    assert (services["churn"].version, services["churn"].model) == ("3", "churn algorithm")
    assert AIServiceManager().health()["status"] == "ok"

    clock.freeze(NOW + timedelta(days=3))  # behaviour (6 h), personas (24 h) and anomalies (30 min) stopped
    assert _statuses() == {
        "sentiment": "ok",
        "behaviour": "stale",
        "personas": "stale",
        "churn": "ok",  # weekly training: stale after two weeks
        "conversion": "ok",
        "attendance": "ok",
        "revenue_forecast": "ok",
        "recommendations": "ok",
        "anomalies": "stale",
        "insights": "stale",  # every 6 hours
    }
    clock.freeze(NOW + timedelta(days=15))
    assert _statuses()["churn"] == "stale"


def test_the_manager_is_the_entry_point_to_every_service() -> None:
    manager = AIServiceManager()
    assert isinstance(manager.sentiment, SentimentAnalysisService)
    assert isinstance(manager.behaviour, UserBehaviorAnalysisService)
    assert isinstance(manager.clustering, UserClusteringService)
    assert isinstance(manager.predictions, PredictiveAnalyticsService)
