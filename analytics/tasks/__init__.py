"""Celery tasks (thin) and the one beat schedule.

`from analytics.tasks import process_new_events` works as documented; each task parses its
arguments and calls one service.
"""

from analytics.tasks import dispatch, worker  # noqa: F401  (connect signal receivers)
from analytics.tasks.alerts import deliver_alert_notifications, evaluate_alerts
from analytics.tasks.anomalies import detect_anomalies_batch
from analytics.tasks.behaviour import generate_user_behavior_insights, perform_user_clustering
from analytics.tasks.forwarding import delete_from_posthog, forward_to_posthog
from analytics.tasks.insights import generate_predictive_insights
from analytics.tasks.metrics import process_daily_metrics_calculation
from analytics.tasks.predictions import score_prediction_models, train_prediction_models
from analytics.tasks.privacy import cleanup_old_analytics_data
from analytics.tasks.processing import process_new_events
from analytics.tasks.replication import replicate_to_analytics_engine
from analytics.tasks.reports import generate_daily_insights_summary, generate_period_reports

__all__ = [
    "cleanup_old_analytics_data",
    "delete_from_posthog",
    "deliver_alert_notifications",
    "detect_anomalies_batch",
    "evaluate_alerts",
    "forward_to_posthog",
    "generate_daily_insights_summary",
    "generate_period_reports",
    "generate_predictive_insights",
    "generate_user_behavior_insights",
    "perform_user_clustering",
    "process_daily_metrics_calculation",
    "process_new_events",
    "replicate_to_analytics_engine",
    "score_prediction_models",
    "train_prediction_models",
]
