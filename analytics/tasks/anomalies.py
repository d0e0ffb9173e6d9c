"""Anomaly task: judge every watched series on its recent complete days (every 30 minutes by beat)."""

from __future__ import annotations

from analytics.intelligence.anomalies.service import anomalies_detect
from analytics.tasks.policy import database_task, fresh_connections


@database_task(name="analytics.tasks.anomalies.detect_anomalies_batch", soft_time_limit=600, time_limit=660)
def detect_anomalies_batch(days: int = 7) -> dict[str, int]:
    """Store the anomalies of the last `days` complete business days (beat: 7; more to backfill, after an
    outage or on a new install) and keep each series' alert in line with its newest complete day. Idempotent."""
    with fresh_connections():
        result = anomalies_detect(days=days)
    return {"anomalies": result.anomalies, "alerts_open": result.alerts_open}
