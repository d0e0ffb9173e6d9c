"""The one beat schedule of the service."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def beat_schedule() -> dict[str, dict[str, Any]]:
    return {
        # The sweeper: processes whatever a lost message left behind (processed_at IS NULL).
        "sweep-unprocessed-events": {
            "task": "analytics.tasks.processing.process_new_events",
            "schedule": settings.ANALYTICS_SWEEP_INTERVAL_SECONDS,
            "options": {"queue": "ingest", "expires": settings.ANALYTICS_SWEEP_INTERVAL_SECONDS * 5},
        },
        # The analytics engine's copy of the tracked events (a no-op without ANALYTICS_CLICKHOUSE_URL); each
        # processing run also enqueues it.
        "replicate-to-analytics-engine": {
            "task": "analytics.tasks.replication.replicate_to_analytics_engine",
            "schedule": 60.0,
            "options": {"queue": "default", "expires": 300},
        },
        # PostHog forwarding: drains the outbox (a no-op while POSTHOG_API_KEY is unset).
        "forward-to-posthog": {
            "task": "analytics.tasks.forwarding.forward_to_posthog",
            "schedule": 15.0,
            "options": {"queue": "default", "expires": 60},
        },
        # PostHog person deletions owed by erasures (a no-op unless POSTHOG_PERSONAL_API_KEY and
        # POSTHOG_PROJECT_ID are set); an erasure also enqueues it as soon as it commits.
        "delete-from-posthog": {
            "task": "analytics.tasks.forwarding.delete_from_posthog",
            "schedule": 300.0,
            "options": {"queue": "default", "expires": 240},
        },
        # Retention: tracked events and other personal data past their settings' horizons, once a day.
        "cleanup-old-analytics-data": {
            "task": "analytics.tasks.privacy.cleanup_old_analytics_data",
            "schedule": 24 * 3600.0,
            "options": {"queue": "default", "expires": 20 * 3600},
        },
        # Business metrics: rollups of dirty days, then the metrics of every period they affect.
        "metrics-hourly": {
            "task": "analytics.tasks.metrics.process_daily_metrics_calculation",
            "schedule": 3600.0,
            "options": {"queue": "default", "expires": 3000},
        },
        # Alerts are evaluated by the metrics task after each run (analytics/tasks/alerts.py); this
        # delivers what they owe and retries failed deliveries once their backoff has passed.
        # Behaviour profiles of users active since their last analysis (and day-old ones), every 6 hours …
        "behaviour-profiles": {
            "task": "analytics.tasks.behaviour.generate_user_behavior_insights",
            "schedule": 6 * 3600.0,
            "options": {"queue": "intelligence", "expires": 5 * 3600},
        },
        # … and a new segmentation into personas once a day.
        "personas-daily": {
            "task": "analytics.tasks.behaviour.perform_user_clustering",
            "schedule": 24 * 3600.0,
            "options": {"queue": "intelligence", "expires": 20 * 3600},
        },
        # Prediction models: a new candidate of each every week (promoted only if it is not worse); scoring
        # follows each metrics run (analytics/tasks/metrics.py).
        "train-prediction-models": {
            "task": "analytics.tasks.predictions.train_prediction_models",
            "schedule": settings.ANALYTICS_MODEL_TRAINING_INTERVAL_HOURS * 3600.0,
            "options": {"queue": "intelligence", "expires": 12 * 3600},
        },
        # Anomalies: every watched series judged on its complete business days (alerts through alerting).
        "detect-anomalies": {
            "task": "analytics.tasks.anomalies.detect_anomalies_batch",
            "schedule": 30 * 60.0,
            "options": {"queue": "intelligence", "expires": 25 * 60},
        },
        # Insights: churn-risk cohorts, anomalies, the revenue outlook, demand against supply and host
        # suggestions, on the newest scoring (analytics/intelligence/insights).
        "generate-insights": {
            "task": "analytics.tasks.insights.generate_predictive_insights",
            "schedule": 6 * 3600.0,
            "options": {"queue": "intelligence", "expires": 5 * 3600},
        },
        # Digests: each checks hourly whether its newest complete period is due and not yet sent.
        "daily-digest": {
            "task": "analytics.tasks.reports.generate_daily_insights_summary",
            "schedule": 3600.0,
            "options": {"queue": "default", "expires": 3000},
        },
        "period-digests": {
            "task": "analytics.tasks.reports.generate_period_reports",
            "schedule": 3600.0,
            "options": {"queue": "default", "expires": 3000},
        },
        "deliver-alert-notifications": {
            "task": "analytics.tasks.alerts.deliver_alert_notifications",
            "schedule": 30.0,
            "options": {"queue": "default", "expires": 120},
        },
    }
