from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    label = "analytics"
    verbose_name = "Loopin Analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analytics import tasks  # noqa: F401  (registers tasks and signal receivers)
        from analytics.tasks.schedule import beat_schedule
        from loopin_backend.celery import app

        app.conf.beat_schedule = beat_schedule()

        from analytics.operations.connection_pool import pool_fork_safety_register

        pool_fork_safety_register()  # a forked child opens its own database pool

        from analytics.collection.processing import processing_step_register
        from analytics.intelligence.sentiment.events import review_sentiment_score
        from analytics.metrics.dirty import mark_metric_days_dirty

        processing_step_register(mark_metric_days_dirty, first=True)  # the metric days the chunk changes
        processing_step_register(review_sentiment_score)  # review/feedback texts → sentiment_score

        from analytics.security.admin_audit import admin_audit_connect

        admin_audit_connect()  # the admin's changes reach the audit log

        from django.conf import settings

        bridge = getattr(settings, "ANALYTICS_SIGNAL_BRIDGE", None)
        if bridge:  # host model changes → tracked events (set in a host project's settings)
            from analytics.collection.signal_bridge import signal_bridge_connect

            signal_bridge_connect(bridge)
