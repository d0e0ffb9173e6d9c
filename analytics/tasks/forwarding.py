"""Forwarding to PostHog: the task that drains the outbox, and its enqueue after processing; the task that
sends the person deletions erasures owe PostHog, and its enqueue after an erasure.

Beat runs `forward_to_posthog` periodically (analytics/tasks/schedule.py); processing also enqueues
it once the rows it added have committed. A broker outage only delays forwarding: the publish fails
fast, is logged, further attempts are skipped for a few seconds, and beat's next run drains the rows.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.dispatch import receiver

from analytics.collection.forwarding import posthog_forward, posthog_outbox_filled
from analytics.privacy.posthog_deletion import posthog_deletion_requested, posthog_persons_delete
from analytics.tasks.policy import database_task, fresh_connections

logger = logging.getLogger(__name__)

QUEUE = "default"
_BACKOFF_SECONDS = 5.0
_lock = threading.Lock()
_skip_until = 0.0


# Below the outbox lease (ANALYTICS_DELIVERY_LEASE_SECONDS, 300 s): a lease never runs out while its sender lives.
@database_task(name="analytics.tasks.forwarding.forward_to_posthog", max_retries=8, soft_time_limit=100, time_limit=150)
def forward_to_posthog() -> int:
    """Send due outbox rows to PostHog (idempotent; a no-op without POSTHOG_API_KEY). Returns how many."""
    with fresh_connections():
        return posthog_forward().sent


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


@database_task(
    name="analytics.tasks.forwarding.delete_from_posthog", max_retries=8, soft_time_limit=100, time_limit=150
)
def delete_from_posthog() -> int:
    """Send the person deletions erasures owe PostHog (idempotent; a no-op unless PostHog deletion is
    configured). Returns how many distinct ids PostHog accepted."""
    with fresh_connections():
        return posthog_persons_delete().deleted


@receiver(posthog_deletion_requested, dispatch_uid="analytics.enqueue_posthog_person_deletion")
def enqueue_posthog_person_deletion(sender: Any, count: int, delay_seconds: int = 0, **kwargs: Any) -> None:
    try:
        delete_from_posthog.apply_async(queue=QUEUE, retry=False, countdown=delay_seconds, expires=delay_seconds + 300)
    except Exception as exc:  # broker down: beat's next run finds the rows
        logger.warning("posthog.deletion_enqueue_failed count=%d error=%s", count, type(exc).__name__)
