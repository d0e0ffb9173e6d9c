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
INSIGHTS_TASK = "analytics.tasks.insights.generate_predictive_insights"
# The beat schedule of each refresh (analytics/tasks/schedule.py); stale after twice as long.
BEHAVIOUR_EVERY = timedelta(hours=6)
PERSONAS_EVERY = timedelta(hours=24)
ANOMALIES_EVERY = timedelta(minutes=30)
INSIGHTS_EVERY = timedelta(hours=6)


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

    @classmethod
    def refreshed(
        cls,
        name: str,
        serves: str,
        model: str,
        version: str | None,
        last: datetime | None,
        every: timedelta,
        never: str,
    ) -> ServiceHealth:
        """A service refreshed on a schedule (`every`), last at `last` (None: never, said by `never`)."""
        status, detail = _freshness(last, every, never=never)
        return cls(name, serves, model, version, last, status, detail)


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
            self._insights(),
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
        return ServiceHealth.refreshed(
            "behaviour",
            "behaviour profiles and the engagement score",
            "engagement score (shipped logistic model)",
            engagement_model().version,
            UserBehaviorProfile.objects.aggregate(last=Max("last_analysis_at"))["last"],
            BEHAVIOUR_EVERY,
            never="no behaviour profile analysed yet",
        )

    @staticmethod
    def _personas() -> ServiceHealth:
        return ServiceHealth.refreshed(
            "personas",
            "personas (segments of similar people)",
            "k-means, k chosen by silhouette",
            SEGMENTS_VERSION,
            UserPersona.objects.filter(is_current=True).aggregate(last=Max("created_at"))["last"],
            PERSONAS_EVERY,
            never="no segmentation run yet",
        )

    @staticmethod
    def _prediction(name: str, minimum_data: str) -> ServiceHealth:
        serves = f"the {name.replace('_', ' ')} prediction"
        row = model_active(name)
        if row is None:
            return ServiceHealth(
                name, serves, "", None, None, "not_trained", f"no active version: not enough data yet ({minimum_data})"
            )
        every = timedelta(hours=settings.ANALYTICS_MODEL_TRAINING_INTERVAL_HOURS)
        return ServiceHealth.refreshed(name, serves, row.algorithm, str(row.version), row.trained_at, every, never="")

    @staticmethod
    def _anomalies() -> ServiceHealth:
        return ServiceHealth.refreshed(
            "anomalies",
            "anomaly detection on the watched daily series",
            "seasonal expectation (weekday and trend) with a count/rate test, confirmation and cooldown",
            None,  # a method, not a trained model: its changes are the code's
            TaskRun.objects.filter(name=ANOMALY_TASK, succeeded=True).values_list("finished_at", flat=True).first(),
            ANOMALIES_EVERY,
            never="the anomaly task has not run yet",
        )

    @staticmethod
    def _insights() -> ServiceHealth:
        return ServiceHealth.refreshed(
            "insights",
            "insights: churn-risk cohorts, anomalies, revenue outlook, demand and host suggestions",
            "rules over the models' outputs, each claim with its evidence (docs/insights.md)",
            None,
            TaskRun.objects.filter(name=INSIGHTS_TASK, succeeded=True).values_list("finished_at", flat=True).first(),
            INSIGHTS_EVERY,
            never="no insight generation has run yet",
        )
