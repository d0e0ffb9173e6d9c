"""Tasks that process newly stored tracked events."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError, close_old_connections

from analytics.collection.processing import process_pending_events


@shared_task(
    name="analytics.tasks.processing.process_new_events",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=540,
    time_limit=600,
)
def process_new_events() -> int:
    """Process every tracked event with `processed_at IS NULL` (idempotent; also the sweeper)."""
    close_old_connections()
    try:
        return process_pending_events()
    finally:
        close_old_connections()
