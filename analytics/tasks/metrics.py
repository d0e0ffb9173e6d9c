"""Metric tasks: rollups of dirty days, then the metrics they affect (hourly, and on demand), then
the alert checks."""

from __future__ import annotations

from analytics.metrics import MetricsProcessor
from analytics.tasks.alerts import enqueue_evaluation
from analytics.tasks.policy import database_task, fresh_connections
from analytics.tasks.predictions import enqueue_scoring


@database_task(name="analytics.tasks.metrics.process_daily_metrics_calculation", soft_time_limit=1700, time_limit=1800)
def process_daily_metrics_calculation(date: str | None = None) -> dict[str, int]:
    """Rebuild dirty days' rollups and recompute affected metrics; with `date` ('YYYY-MM-DD'), that
    business day too. Idempotent."""
    with fresh_connections():
        result = MetricsProcessor.process_daily_metrics(date)
    # Alert checks after each run, as a task of their own: a failure there never fails this one.
    enqueue_evaluation()
    # Bulk scoring with the active prediction models follows each run (not each ingestion).
    enqueue_scoring()
    return {"days_rebuilt": result.days_rebuilt, "periods": result.periods, "rows": result.rows}
