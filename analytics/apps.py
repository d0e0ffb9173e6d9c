from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    label = "analytics"
    verbose_name = "Loopin Analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loopin_backend.celery import app

        from analytics import tasks  # noqa: F401  (registers tasks and signal receivers)
        from analytics.tasks.schedule import beat_schedule

        app.conf.beat_schedule = beat_schedule()
