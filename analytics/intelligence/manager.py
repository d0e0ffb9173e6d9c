"""`AIServiceManager`: one entry point to every AI service, with each one's model version and health.

The services themselves are the documented classes (`SentimentAnalysisService`, `UserBehaviorAnalysisService`,
`UserClusteringService`, `PredictiveAnalyticsService`), reachable as attributes. `services()` says, for each
AI capability, which model serves it, its version, when it was last trained or run, and whether that is
fresh, read from where each keeps it: the shipped parameter files (sentiment, engagement), the stored
profiles and segmentation runs, the prediction model registry (churn, conversion, attendance, revenue) and
the task-run record (anomalies). A capability is `stale` when it has not been refreshed for twice its
schedule: the beat task that should refresh it is not running.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db.models import Max

from analytics import clock
from analytics.intelligence.behaviour.engagement import model_load as engagement_model
from analytics.intelligence.behaviour.service import UserBehaviorAnalysisService
from analytics.intelligence.predictions import PREDICTION_MODELS, PredictiveAnalyticsService
from analytics.intelligence.registry import model_active
from analytics.intelligence.segments.service import MODEL_VERSION as SEGMENTS_VERSION
from analytics.intelligence.segments.service import UserClusteringService
from analytics.intelligence.sentiment.combiner import committed_parameters
from analytics.intelligence.sentiment.service import SentimentAnalysisService
from analytics.models import TaskRun, UserBehaviorProfile, UserPersona

Status = Literal["ok", "stale", "not_trained"]
ANOMALY_TASK = "analytics.tasks.anomalies.detect_anomalies_batch"
# The beat schedule of each refresh (analytics/tasks/schedule.py); stale after twice as long.
BEHAVIOUR_EVERY = timedelta(hours=6)
PERSONAS_EVERY = timedelta(hours=24)
ANOMALIES_EVERY = timedelta(minutes=30)


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    serves: str
    model: str
    version: str | None
    updated_at: datetime | None  # trained, analysed or run last
    status: Status
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _freshness(updated_at: datetime | None, every: timedelta, *, never: str) -> tuple[Status, str]:
    if updated_at is None:
        return "not_trained", never
    age = clock.now() - updated_at
    if age > 2 * every:
        return "stale", f"last refreshed {age.total_seconds() / 3600:.1f} h ago; scheduled every {_hours(every)}"
    return "ok", f"refreshed {age.total_seconds() / 3600:.1f} h ago; scheduled every {_hours(every)}"


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h" if hours >= 1 else f"{span.total_seconds() / 60:g} min"


class AIServiceManager:
    """Every AI service of Loopin Analytics behind one object; `services()` and `health()` report on them."""

    def __init__(self) -> None:
        self.sentiment = SentimentAnalysisService()
        self.behaviour = UserBehaviorAnalysisService()
        self.clustering = UserClusteringService()
        self.predictions = PredictiveAnalyticsService()

    def services(self) -> list[ServiceHealth]:
        return [
            self._sentiment(),
            self._behaviour(),
            self._personas(),
            *(self._prediction(spec.name, spec.minimum_data) for spec in PREDICTION_MODELS),
            self._anomalies(),
        ]

    def health(self) -> dict[str, Any]:
        """`{"status": "ok" | "degraded", "services": [...]}`: degraded when any service is stale or untrained."""
        services = self.services()
        status = "ok" if all(s.status == "ok" for s in services) else "degraded"
        return {"status": status, "services": [s.as_dict() for s in services]}

    @staticmethod
    def _sentiment() -> ServiceHealth:
        openai = bool(settings.OPENAI_API_KEY) and settings.AI_SERVICES_ENABLED
        return ServiceHealth(
            name="sentiment",
            serves="review and feedback sentiment, the sentiment API",
            model="local lexicon combiner (VADER, TextBlob), shipped parameters",
            version=committed_parameters().version,
            updated_at=None,
            status="ok",
            detail="ships with the service; the OpenAI path is " + ("on" if openai else "off"),
        )

    @staticmethod
    def _behaviour() -> ServiceHealth:
        last = UserBehaviorProfile.objects.aggregate(last=Max("last_analysis_at"))["last"]
        status, detail = _freshness(last, BEHAVIOUR_EVERY, never="no behaviour profile analysed yet")
        return ServiceHealth(
            name="behaviour",
            serves="behaviour profiles and the engagement score",
            model="engagement score (shipped logistic model)",
            version=engagement_model().version,
            updated_at=last,
            status=status,
            detail=detail,
        )

    @staticmethod
    def _personas() -> ServiceHealth:
        last = UserPersona.objects.filter(is_current=True).aggregate(last=Max("created_at"))["last"]
        status, detail = _freshness(last, PERSONAS_EVERY, never="no segmentation run yet")
        return ServiceHealth(
            name="personas",
            serves="personas (segments of similar people)",
            model="k-means, k chosen by silhouette",
            version=SEGMENTS_VERSION,
            updated_at=last,
            status=status,
            detail=detail,
        )

    @staticmethod
    def _prediction(name: str, minimum_data: str) -> ServiceHealth:
        row = model_active(name)
        every = timedelta(hours=settings.ANALYTICS_MODEL_TRAINING_INTERVAL_HOURS)
        if row is None:
            status: Status = "not_trained"
            detail = f"no active version: not enough data yet ({minimum_data})"
        else:
            status, detail = _freshness(row.trained_at, every, never="")
        return ServiceHealth(
            name=name,
            serves=f"the {name.replace('_', ' ')} prediction",
            model=row.algorithm if row is not None else "",
            version=str(row.version) if row is not None else None,
            updated_at=row.trained_at if row is not None else None,
            status=status,
            detail=detail,
        )

    @staticmethod
    def _anomalies() -> ServiceHealth:
        last = TaskRun.objects.filter(name=ANOMALY_TASK, succeeded=True).values_list("finished_at", flat=True).first()
        status, detail = _freshness(last, ANOMALIES_EVERY, never="the anomaly task has not run yet")
        return ServiceHealth(
            name="anomalies",
            serves="anomaly detection on the watched daily series",
            model="seasonal expectation (weekday and trend) with a count/rate test, confirmation and cooldown",
            version=None,  # a method, not a trained model: its changes are the code's
            updated_at=last,
            status=status,
            detail=detail,
        )
