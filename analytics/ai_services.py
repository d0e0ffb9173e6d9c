"""The documented face: `from analytics.ai_services import SentimentAnalysisService` (and, as they land,
the other AI services), and `AIServiceManager`, one entry point to all of them with each one's model version
and health. Thin re-exports only; the code lives in analytics/intelligence/."""

from analytics.intelligence.behaviour.service import UserBehaviorAnalysisService
from analytics.intelligence.manager import AIServiceManager
from analytics.intelligence.predictions import PredictiveAnalyticsService
from analytics.intelligence.segments.service import UserClusteringService
from analytics.intelligence.sentiment.service import SentimentAnalysisService

__all__ = [
    "AIServiceManager",
    "PredictiveAnalyticsService",
    "SentimentAnalysisService",
    "UserBehaviorAnalysisService",
    "UserClusteringService",
]
