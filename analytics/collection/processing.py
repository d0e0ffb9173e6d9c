"""Processing of newly stored tracked events (rows with `processed_at IS NULL`).

Each chunk is claimed, handed to every processing step, and marked processed in one transaction,
so a crash leaves the rows for the next run and a step's work is never half-applied. On
PostgreSQL rows are claimed with `FOR UPDATE SKIP LOCKED`, so concurrent workers never take the
same rows. Steps must be idempotent: a chunk may be seen again after a failure.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction

from analytics import clock
from analytics.collection.forwarding import posthog_outbox_add
from analytics.collection.identity import link_identities
from analytics.collection.listings import update_listings
from analytics.collection.pending import PENDING_COLUMNS, PendingEvent, Step
from analytics.collection.sessions import update_sessions
from analytics.models import ReplicaPending, UserEvent

logger = logging.getLogger(__name__)

# The processing steps, in order: collection's own, and those other layers register from
# `AnalyticsConfig.ready()` (metrics' dirty days, first; intelligence's sentiment scores, after).
STEPS: list[Step] = [link_identities, update_listings, update_sessions, posthog_outbox_add]


def processing_step_register(step: Step, *, first: bool = False) -> None:
    """Add a step from a layer this one may not import; `first`: before every other step (to see the
    chunk's sessions and listings as they were before it). Registering the same step again changes nothing."""
    if step in STEPS:
        return
    if first:
        STEPS.insert(0, step)
    else:
        STEPS.append(step)


def process_pending_events(*, chunk_size: int = 2000, max_chunks: int = 50) -> int:
    """Process up to `chunk_size * max_chunks` pending events; returns how many were processed.

    Each chunk starts after the last id of the one before: on PostgreSQL the partial index of pending
    rows keeps entries for rows processed moments ago until vacuum, and a scan from the start would
    step over all of them again for every chunk (a large backlog slowed to a crawl that way)."""
    processed = 0
    after = 0
    for _ in range(max_chunks):
        with transaction.atomic():
            queryset = UserEvent.objects.filter(processed_at__isnull=True, id__gt=after).order_by("id")
            if connection.features.has_select_for_update_skip_locked:
                queryset = queryset.select_for_update(skip_locked=True, of=("self",))
            rows = [PendingEvent(*row) for row in queryset.values_list(*PENDING_COLUMNS)[:chunk_size]]
            if not rows:
                break
            after = rows[-1].id
            for step in STEPS:
                step(rows)
            UserEvent.objects.filter(id__in=[row.id for row in rows], processed_at__isnull=True).update(
                processed_at=clock.now()
            )
            ReplicaPending.mark([row.id for row in rows])  # the analytics engine receives them next
        processed += len(rows)
        if len(rows) < chunk_size:
            break
    if processed:
        logger.info("processing.events_processed count=%d", processed)
    return processed


def processing_backlog() -> tuple[int, datetime | None]:
    """(number of unprocessed events, when the oldest of them was received)."""
    pending = UserEvent.objects.filter(processed_at__isnull=True)
    oldest = pending.order_by("id").values_list("received_at", flat=True).first()
    return pending.count(), oldest
