"""Forwarding to PostHog: the task that drains the outbox, and its enqueue after processing.

Beat runs `forward_to_posthog` periodically (analytics/tasks/schedule.py); processing also enqueues
it once the rows it added have committed. A broker outage only delays forwarding: the publish fails
fast, is logged, further attempts are skipped for a few seconds, and beat's next run drains the rows.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError, close_old_connections
from django.dispatch import receiver

from analytics.collection.forwarding import posthog_forward, posthog_outbox_filled

logger = logging.getLogger(__name__)

QUEUE = "default"
_BACKOFF_SECONDS = 5.0
_lock = threading.Lock()
_skip_until = 0.0


@shared_task(
    name="analytics.tasks.forwarding.forward_to_posthog",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    # Below the outbox lease (LEASE_SECONDS = 300): a lease never runs out while its sender lives.
    soft_time_limit=100,
    time_limit=150,
)
def forward_to_posthog() -> int:
    """Send due outbox rows to PostHog (idempotent; a no-op without POSTHOG_API_KEY). Returns how many."""
    close_old_connections()
    try:
        return posthog_forward().sent
    finally:
        close_old_connections()


@receiver(posthog_outbox_filled, dispatch_uid="analytics.enqueue_posthog_forwarding")
def enqueue_posthog_forwarding(sender: Any, count: int, **kwargs: Any) -> None:
    global _skip_until
    if time.monotonic() < _skip_until:
        return
    try:
        forward_to_posthog.apply_async(queue=QUEUE, retry=False, expires=300)
    except Exception as exc:  # broker down: beat's next run finds the rows
        with _lock:
            _skip_until = time.monotonic() + _BACKOFF_SECONDS
        logger.warning("posthog.enqueue_failed count=%d error=%s", count, type(exc).__name__)
