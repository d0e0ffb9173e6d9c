"""Erasure reaches PostHog: the person's PostHog persons and their events are deleted there too.

1. `posthog_deletion_request` runs inside the erasure's transaction: one `PostHogPersonDeletion` row per
   distinct id of the person (the forwarder sends events under the user id, or under the anonymous id
   when an event names no user), only when PostHog deletion is configured. The rows are due
   `POSTHOG_DELETION_DELAY_SECONDS` later (6 minutes): past the forwarder's lease, so a batch of the
   person's events already on its way when the erasure committed reaches PostHog before the deletion and
   goes with it (PostHog does not support a distinct id reused after its person was deleted).
2. `posthog_persons_delete` (the `delete_from_posthog` task: enqueued once the erasure commits, and run
   by beat so that nothing waits for a lost message) claims due rows, asks PostHog to delete the persons
   of those distinct ids with their events — `POST /api/projects/{project_id}/persons/bulk_delete/`,
   `{"distinct_ids": [...], "delete_events": true}`, authorised by a personal API key — and deletes the
   rows only once PostHog answered 2xx. Any failure (network, 5xx, 429, a key being fixed) keeps them,
   with a backed-off next attempt; the request is never dropped.

PostHog deletes asynchronously on its side; the request is idempotent there (unknown ids are ignored), so
the only possible resend — a crash between PostHog's answer and our delete — is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.dispatch import Signal

from analytics import clock
from analytics.collection.forwarding import backoff_seconds
from analytics.models import PostHogPersonDeletion

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # PostHog's limit of distinct ids per bulk delete
MAX_BATCHES_PER_RUN = 10
TIMEOUT_SECONDS = 10.0

# Sent after an erasure that requested deletions has committed; kwargs: count, delay_seconds. The tasks
# layer enqueues `delete_from_posthog` on it, to run once the deletions are due.
posthog_deletion_requested = Signal()


def posthog_deletion_enabled() -> bool:
    return bool(settings.POSTHOG_PERSONAL_API_KEY and settings.POSTHOG_PROJECT_ID)


def posthog_api_host() -> str:
    """The host of PostHog's private API: `POSTHOG_API_HOST`, else `POSTHOG_HOST` with PostHog Cloud's
    ingestion host (`us.i.posthog.com`, `eu.i.posthog.com`) replaced by its app host; a self-hosted
    PostHog answers both on one host."""
    if settings.POSTHOG_API_HOST:
        return str(settings.POSTHOG_API_HOST).rstrip("/")
    parts = urlsplit(str(settings.POSTHOG_HOST).rstrip("/"))
    host = parts.netloc
    if host.endswith(".i.posthog.com"):
        host = host.removesuffix(".i.posthog.com") + ".posthog.com"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def posthog_deletion_request(distinct_ids: Iterable[str]) -> int:
    """Owe PostHog the deletion of these distinct ids' persons (in the caller's transaction); how many
    rows were added (0 when deletion is not configured, or every id is already owed)."""
    ids = sorted({str(i) for i in distinct_ids if i})
    if not ids or not posthog_deletion_enabled():
        return 0
    now = clock.now()
    delay = int(settings.POSTHOG_DELETION_DELAY_SECONDS)
    due = now + timedelta(seconds=delay)
    before = PostHogPersonDeletion.objects.filter(distinct_id__in=ids).count()
    PostHogPersonDeletion.objects.bulk_create(
        [PostHogPersonDeletion(distinct_id=i, requested_at=now, next_attempt_at=due) for i in ids],
        ignore_conflicts=True,
    )
    added = len(ids) - before
    transaction.on_commit(
        lambda: posthog_deletion_requested.send_robust(
            sender=posthog_deletion_request, count=added, delay_seconds=delay
        ),
        robust=True,
    )
    return added


@dataclass(frozen=True)
class _Answer:
    ok: bool
    error: str = ""
    retry_after: float | None = None


def _post(distinct_ids: list[str]) -> _Answer:
    import requests  # the posthog package's own HTTP client; imported where it is needed

    project = quote(str(settings.POSTHOG_PROJECT_ID), safe="")
    url = f"{posthog_api_host()}/api/projects/{project}/persons/bulk_delete/"
    try:
        response = requests.post(
            url,
            json={"distinct_ids": distinct_ids, "delete_events": True},
            headers={"Authorization": f"Bearer {settings.POSTHOG_PERSONAL_API_KEY}"},
            timeout=TIMEOUT_SECONDS,
        )
    except Exception as exc:  # transport errors, timeouts, the soft time limit: retried later
        return _Answer(ok=False, error=type(exc).__name__)
    if 200 <= response.status_code < 300:
        return _Answer(ok=True)
    retry_after = response.headers.get("Retry-After", "")
    return _Answer(
        ok=False,
        error=f"http_{response.status_code}",
        retry_after=float(retry_after) if retry_after.isdecimal() else None,
    )


def _claim() -> list[tuple[int, str, int]]:
    """Up to BATCH_SIZE due rows (id, distinct id, attempts), leased so no other run sends them meanwhile."""
    now = clock.now()
    with transaction.atomic():
        due = PostHogPersonDeletion.objects.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = list(due.values_list("id", "distinct_id", "attempts")[:BATCH_SIZE])
        if claimed:
            PostHogPersonDeletion.objects.filter(id__in=[c[0] for c in claimed]).update(
                next_attempt_at=now + timedelta(seconds=settings.ANALYTICS_DELIVERY_LEASE_SECONDS)
            )
    return claimed


@dataclass(frozen=True)
class DeletionResult:
    deleted: int = 0  # distinct ids PostHog accepted
    failed: int = 0  # left for a later attempt
    batches: int = 0


def posthog_persons_delete(*, max_batches: int = MAX_BATCHES_PER_RUN) -> DeletionResult:
    """Send due deletions to PostHog; stops at the first failure (the rows back off). Idempotent."""
    if not posthog_deletion_enabled():
        return DeletionResult()
    deleted = failed = batches = 0
    for _ in range(max_batches):
        claimed = _claim()
        if not claimed:
            break
        batches += 1
        answer = _post([distinct_id for _, distinct_id, _ in claimed])
        ids = [row_id for row_id, _, _ in claimed]
        if answer.ok:
            PostHogPersonDeletion.objects.filter(id__in=ids).delete()
            deleted += len(ids)
            continue
        attempts = max(tried for _, _, tried in claimed) + 1
        PostHogPersonDeletion.objects.filter(id__in=ids).update(
            attempts=F("attempts") + 1,
            next_attempt_at=clock.now() + timedelta(seconds=backoff_seconds(attempts, answer.retry_after)),
            last_error=answer.error[:200],
        )
        failed += len(ids)
        logger.warning("posthog.person_deletion_failed ids=%d error=%s", len(ids), answer.error)
        break
    if deleted:
        logger.info("posthog.persons_deleted ids=%d batches=%d", deleted, batches)
    return DeletionResult(deleted=deleted, failed=failed, batches=batches)


def posthog_deletion_backlog() -> dict[str, Any]:
    """Deletions still owed to PostHog, as /health reports them."""
    counts = PostHogPersonDeletion.objects.aggregate(
        pending=Count("id"), oldest=Min("requested_at"), retrying=Count("id", filter=Q(attempts__gt=0))
    )
    oldest = counts["oldest"]
    return {
        "person_deletions_pending": counts["pending"],
        "person_deletions_retrying": counts["retrying"],
        "oldest_person_deletion_age_seconds": round((clock.now() - oldest).total_seconds(), 3) if oldest else None,
    }
