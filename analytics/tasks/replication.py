"""Replication into the analytics engine (ClickHouse): after each processing run, and every minute."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from analytics.metrics.clickhouse import engine_target
from analytics.metrics.clickhouse.replication import replication_run
from analytics.tasks.policy import database_task, fresh_connections

logger = logging.getLogger(__name__)
BATCHES_PER_RUN = 20  # a run stays bounded; the next one (a minute later, or after processing) goes on


@database_task(name="analytics.tasks.replication.replicate_to_analytics_engine", soft_time_limit=540, time_limit=600)
def replicate_to_analytics_engine() -> dict[str, Any]:
    """Send the analytics engine what it lacks (a no-op without `ANALYTICS_CLICKHOUSE_URL`). An unreachable
    engine raises, the policy retries; the markers wait in the database meanwhile, so nothing is lost."""
    with fresh_connections():
        return asdict(replication_run(max_batches=BATCHES_PER_RUN))


def enqueue_replication() -> None:
    """After a processing run: replicate now, unless no engine is configured or the broker is down (the
    scheduled run a minute later catches up)."""
    if engine_target() is None:
        return
    try:
        replicate_to_analytics_engine.apply_async(retry=False, expires=300)
    except Exception as exc:
        logger.warning("clickhouse.enqueue_failed error=%s", type(exc).__name__)
