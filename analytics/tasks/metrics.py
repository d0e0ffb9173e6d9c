"""Metric tasks: rollups of dirty days, then the metrics they affect (hourly, and on demand), then
the alert checks."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError, close_old_connections

from analytics.metrics import MetricsProcessor
from analytics.tasks.alerts import enqueue_evaluation


@shared_task(
    name="analytics.tasks.metrics.process_daily_metrics_calculation",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=1700,
    time_limit=1800,
)
def process_daily_metrics_calculation(date: str | None = None) -> dict[str, int]:
    """Rebuild dirty days' rollups and recompute affected metrics; with `date` ('YYYY-MM-DD'), that
    business day too. Idempotent."""
    close_old_connections()
    try:
        result = MetricsProcessor.process_daily_metrics(date)
    finally:
        close_old_connections()
    # Alert checks after each run, as a task of their own: a failure there never fails this one.
    enqueue_evaluation()
    return {"days_rebuilt": result.days_rebuilt, "periods": result.periods, "rows": result.rows}
