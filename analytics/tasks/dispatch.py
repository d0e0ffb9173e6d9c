"""Enqueue processing after ingestion commits — without ever failing or stalling the request.

Rows are already committed when this runs, so a broker outage only delays processing: the
publish fails fast (short connect timeout, no publish retries), is logged, and further attempts
are skipped for a few seconds; the beat-scheduled sweeper processes whatever was left.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.dispatch import receiver

from analytics.collection.signals import events_stored
from analytics.tasks.processing import process_new_events

logger = logging.getLogger(__name__)

_BACKOFF_SECONDS = 5.0
_lock = threading.Lock()
_skip_until = 0.0


@receiver(events_stored, dispatch_uid="analytics.enqueue_processing")
def enqueue_processing(sender: Any, count: int, **kwargs: Any) -> None:
    global _skip_until
    now = time.monotonic()
    if now < _skip_until:
        return
    try:
        process_new_events.apply_async(queue="ingest", retry=False)
    except Exception as exc:  # broker down: the sweeper will find the rows
        with _lock:
            _skip_until = time.monotonic() + _BACKOFF_SECONDS
        logger.warning("processing.enqueue_failed count=%d error=%s", count, type(exc).__name__)
