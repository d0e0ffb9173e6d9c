"""Tasks that process newly stored tracked events."""

from __future__ import annotations

from analytics.collection.processing import process_pending_events
from analytics.tasks.policy import database_task, fresh_connections
from analytics.tasks.replication import enqueue_replication


@database_task(
    name="analytics.tasks.processing.process_new_events",
    aliases=("process_user_events_batch",),  # the documented name of event processing
    max_retries=8,
    soft_time_limit=540,
    time_limit=600,
)
def process_new_events() -> int:
    """Process every tracked event with `processed_at IS NULL` (idempotent; also the sweeper)."""
    with fresh_connections():
        processed = process_pending_events()
    if processed:
        enqueue_replication()
    return processed
