"""Forwarding stored tracked events to PostHog through a transactional outbox.

1. `posthog_outbox_add` is a processing step: in the transaction that marks a chunk of new events
   processed, it writes one `ForwardingOutbox` row per event (only while POSTHOG_API_KEY is set).
2. `posthog_forward` (run by the `forward_to_posthog` task, never on a request) drains the outbox in
   batches: claim due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and lease them, build the
   messages from the stored — already scrubbed — columns, drop the events of users who opted out
   since, POST the batch with the official `posthog` package (`posthog.request.batch_post`, the
   `/batch/` capture endpoint), and delete the rows only once PostHog answered 2xx. On a failure
   the rows stay, with `attempts + 1` and a backed-off `next_attempt_at`, and the run stops.

Each event carries its own uuid, on which PostHog de-duplicates, so the only resend that can ever
happen — a crash between PostHog's 2xx and our delete committing — is harmless. A batch PostHog
refuses outright (400/413/415/422) is split in halves until the offending event is isolated; that
event is parked (kept, counted in /health, not retried by itself) and the rest are delivered.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.dispatch import Signal

from analytics import clock
from analytics.collection.pending import PendingEvent
from analytics.models import ForwardingOutbox, UserEvent
from analytics.models.forwarding import ForwardingDestination
from analytics.privacy.consent import opted_out_among
from analytics.privacy.encryption import is_encrypted, properties_decrypt

logger = logging.getLogger(__name__)

POSTHOG = ForwardingDestination.POSTHOG.value

BATCH_SIZE = 500  # events per POST (PostHog accepts far larger bodies; 500 keeps one under ~1 MB typically)
MAX_BATCHES_PER_RUN = 20  # bounded work per task run; beat and the post-processing enqueue run it again
RUN_BUDGET_SECONDS = 60.0  # no new batch is claimed after this long (the task's soft limit is 100 s)
SEND_TIMEOUT_SECONDS = 10.0
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 3600.0
# PostHog refuses the request itself: retrying the same body cannot succeed. Everything else
# (network errors, 5xx, 408, 429, and 401/403/404 — a key or host being fixed) is retried.
REFUSED_STATUSES = frozenset({400, 413, 415, 422})

LIBRARY = "loopin-analytics"
_POSTHOG_DEVICE_TYPES = {"mobile": "Mobile", "tablet": "Tablet", "desktop": "Desktop"}
_NEVER_FORWARDED = frozenset({"$ip"})  # the truncated prefix is ours; PostHog gets no IP at all

# Sent after a transaction that added outbox rows has committed; kwargs: count. The tasks layer
# enqueues `forward_to_posthog` on it.
posthog_outbox_filled = Signal()

# The stored columns a message is built from (never ip_prefix, context or payload_hash).
_EVENT_FIELDS = tuple(
    """
    id uuid event_name event_type user_id anonymous_id session_id timestamp properties page_url page_path
    referrer device_type browser os city country listing_id host_id revenue_impact currency status_code
    response_time_ms sentiment_score engagement_level source
    """.split()
)


def posthog_enabled() -> bool:
    return bool(settings.POSTHOG_API_KEY)


# --- the processing step ---------------------------------------------------------------------------


def posthog_outbox_add(events: Sequence[PendingEvent]) -> None:
    """Processing step: owe PostHog every event of the chunk (nothing at all when the key is unset).

    Runs in the chunk's transaction, so the rows exist exactly when the events are marked
    processed; a chunk seen again adds nothing (unique per event and destination).
    """
    if not events or not posthog_enabled():
        return
    now = clock.now()
    ForwardingOutbox.objects.bulk_create(
        [ForwardingOutbox(destination=POSTHOG, event_id=e.id, created_at=now, next_attempt_at=now) for e in events],
        batch_size=1000,
        ignore_conflicts=True,
    )
    count = len(events)
    transaction.on_commit(
        lambda: posthog_outbox_filled.send_robust(sender=posthog_outbox_add, count=count), robust=True
    )


# --- what PostHog receives -------------------------------------------------------------------------


def posthog_distinct_id(event: Mapping[str, Any]) -> tuple[str, bool]:
    """(distinct_id, personless): the user id, else the anonymous id, else the event's own uuid.

    An event with neither id is sent personless (`$process_person_profile: false`) under its uuid,
    a stable id that never merges unrelated events into one PostHog person.
    """
    if event["user_id"]:
        return str(event["user_id"]), False
    if event["anonymous_id"]:
        return str(event["anonymous_id"]), False
    return str(event["uuid"]), True


def posthog_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """One PostHog capture message from a stored (already scrubbed) tracked event row."""
    stored = event["properties"] or {}
    if settings.POSTHOG_FORWARD_SENSITIVE_TEXT:
        stored = properties_decrypt(stored)
    # A person's own words stay encrypted at rest and, unless the setting says otherwise, out of PostHog.
    properties: dict[str, Any] = {
        key: value for key, value in stored.items() if key not in _NEVER_FORWARDED and not is_encrypted(value)
    }
    columns: dict[str, Any] = {
        "$session_id": event["session_id"],
        "$current_url": event["page_url"],
        "$pathname": event["page_path"],
        "$referrer": event["referrer"],
        "$device_type": _POSTHOG_DEVICE_TYPES.get(event["device_type"]),
        "$browser": event["browser"],
        "$os": event["os"],
        "$geoip_city_name": event["city"],
        "listing_id": event["listing_id"],
        "host_id": event["host_id"],
        "currency": event["currency"],
        "status_code": event["status_code"],
        "response_time_ms": event["response_time_ms"],
        "sentiment_score": event["sentiment_score"],
        "engagement_level": event["engagement_level"],
    }
    country = event["country"] or ""
    if len(country) == 2 and country.isalpha():
        columns["$geoip_country_code"] = country.upper()
    elif country:
        columns["$geoip_country_name"] = country
    if event["revenue_impact"] is not None:
        columns["revenue"] = float(event["revenue_impact"])
    properties.update({key: value for key, value in columns.items() if value not in (None, "")})
    distinct_id, personless = posthog_distinct_id(event)
    if personless:
        properties["$process_person_profile"] = False
    properties.update(
        {
            "loopin_event_type": event["event_type"],
            "loopin_source": event["source"],
            "$lib": LIBRARY,
            "$lib_version": settings.VERSION,
            "$geoip_disable": True,
        }
    )
    return {
        "event": event["event_name"],
        "distinct_id": distinct_id,
        "uuid": str(event["uuid"]),
        "timestamp": event["timestamp"].isoformat(),
        "properties": properties,
    }


# --- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sent:
    ok: bool
    refused: bool = False  # PostHog refused this body (4xx that no retry can fix)
    error: str = ""
    retry_after: float | None = None


def _post(messages: list[dict[str, Any]]) -> _Sent:
    """POST one batch with the official package. Only a 2xx counts as delivered."""
    from posthog.request import APIError, batch_post, determine_server_host  # ~0.4 s import: only here

    try:
        batch_post(
            settings.POSTHOG_API_KEY,
            determine_server_host(settings.POSTHOG_HOST),
            gzip=True,
            timeout=SEND_TIMEOUT_SECONDS,
            batch=messages,
            historical_migration=False,
        )
    except APIError as exc:
        status = exc.status if isinstance(exc.status, int) else None
        if status is not None and 200 <= status < 300:
            return _Sent(ok=True)
        return _Sent(
            ok=False,
            refused=status in REFUSED_STATUSES,
            error=f"http_{exc.status}",
            retry_after=exc.retry_after,
        )
    except Exception as exc:  # transport errors, timeouts, the soft time limit: retried later
        return _Sent(ok=False, error=type(exc).__name__)
    return _Sent(ok=True)


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter after the `attempts`-th failure, never before Retry-After."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 20))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, min(retry_after or 0.0, BACKOFF_MAX_SECONDS))


@dataclass(frozen=True)
class _Claimed:
    outbox_id: int
    event_id: int
    attempts: int


def _claim(*, batch_size: int) -> list[_Claimed]:
    """Take up to `batch_size` due rows and lease them, so no other run sends them meanwhile."""
    now = clock.now()
    with transaction.atomic():
        due = ForwardingOutbox.objects.filter(
            destination=POSTHOG, parked_at__isnull=True, next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = [_Claimed(*row) for row in due.values_list("id", "event_id", "attempts")[:batch_size]]
        if claimed:
            ForwardingOutbox.objects.filter(id__in=[c.outbox_id for c in claimed]).update(
                next_attempt_at=now + timedelta(seconds=settings.ANALYTICS_DELIVERY_LEASE_SECONDS)
            )
    return claimed


def _messages(claimed: Sequence[_Claimed]) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """(outbox id, message) for each claimed row still to be sent, and how many were withdrawn.

    Consent is checked again here: a person may have opted out since the event was stored (their user id,
    or for an event naming no user, the anonymous id linked to them). Their rows (and rows whose event was
    deleted meanwhile) are deleted without sending anything.
    """
    events = {
        row["id"]: row for row in UserEvent.objects.filter(id__in=[c.event_id for c in claimed]).values(*_EVENT_FIELDS)
    }
    opted_out = opted_out_among(
        user_ids={str(e["user_id"]) for e in events.values() if e["user_id"]},
        anonymous_ids={str(e["anonymous_id"]) for e in events.values() if e["anonymous_id"] and not e["user_id"]},
    )
    items: list[tuple[int, dict[str, Any]]] = []
    withdrawn: list[int] = []
    for row in claimed:
        stored = events.get(row.event_id)
        if stored is None or opted_out.covers(stored["user_id"], stored["anonymous_id"]):
            withdrawn.append(row.outbox_id)
        else:
            items.append((row.outbox_id, posthog_message(stored)))
    if withdrawn:
        ForwardingOutbox.objects.filter(id__in=withdrawn).delete()
    return items, len(withdrawn)


@dataclass
class _Delivery:
    delivered: list[int]
    parked: list[tuple[int, str]]
    undelivered: list[int]
    failure: _Sent | None = None


def _deliver(items: list[tuple[int, dict[str, Any]]]) -> _Delivery:
    """Send `items` (outbox id, message); a refused batch is halved until the culprit is alone."""
    result = _Delivery(delivered=[], parked=[], undelivered=[])
    groups = [items]
    while groups:
        group = groups.pop(0)
        if result.failure is not None:
            result.undelivered.extend(outbox_id for outbox_id, _ in group)
            continue
        sent = _post([message for _, message in group])
        if sent.ok:
            result.delivered.extend(outbox_id for outbox_id, _ in group)
        elif sent.refused and len(group) > 1:
            middle = len(group) // 2
            groups[0:0] = [group[:middle], group[middle:]]
        elif sent.refused:
            result.parked.append((group[0][0], sent.error))
        else:
            result.failure = sent
            result.undelivered.extend(outbox_id for outbox_id, _ in group)
    return result


def _record(delivery: _Delivery, claimed: Sequence[_Claimed]) -> None:
    """Delete what PostHog acknowledged; back off what failed; park what it refused."""
    now = clock.now()
    attempts_of = {c.outbox_id: c.attempts for c in claimed}
    with transaction.atomic():
        if delivery.delivered:
            ForwardingOutbox.objects.filter(id__in=delivery.delivered).delete()
        by_error: dict[str, list[int]] = defaultdict(list)
        for outbox_id, error in delivery.parked:
            by_error[error].append(outbox_id)
        for error, ids in by_error.items():
            ForwardingOutbox.objects.filter(id__in=ids).update(
                parked_at=now, last_error=error[:200], attempts=F("attempts") + 1
            )
        if delivery.undelivered and delivery.failure is not None:
            by_attempts: dict[int, list[int]] = defaultdict(list)
            for outbox_id in delivery.undelivered:
                by_attempts[attempts_of[outbox_id] + 1].append(outbox_id)
            for attempts, ids in by_attempts.items():
                delay = backoff_seconds(attempts, delivery.failure.retry_after)
                ForwardingOutbox.objects.filter(id__in=ids).update(
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_error=delivery.failure.error[:200],
                )


@dataclass(frozen=True)
class ForwardResult:
    sent: int = 0
    skipped_opted_out: int = 0
    parked: int = 0
    failed: int = 0  # left in the outbox for a later attempt
    batches: int = 0


def posthog_forward(
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES_PER_RUN,
    budget_seconds: float = RUN_BUDGET_SECONDS,
) -> ForwardResult:
    """Drain due outbox rows to PostHog, at most `max_batches` batches of `batch_size` events.

    Stops early when the outbox has nothing due, when PostHog fails (the rows back off), or when
    `budget_seconds` have passed. Idempotent: safe to run concurrently and repeatedly.
    """
    if not posthog_enabled():
        return ForwardResult()
    started = time.monotonic()
    sent = skipped = parked = failed = batches = 0
    for _ in range(max_batches):
        if time.monotonic() - started > budget_seconds:
            break
        claimed = _claim(batch_size=batch_size)
        if not claimed:
            break
        batches += 1
        items, withdrawn = _messages(claimed)
        skipped += withdrawn
        delivery = _deliver(items) if items else _Delivery(delivered=[], parked=[], undelivered=[])
        _record(delivery, claimed)
        sent += len(delivery.delivered)
        parked += len(delivery.parked)
        failed += len(delivery.undelivered)
        if delivery.parked:
            logger.error("posthog.events_parked count=%d error=%s", len(delivery.parked), delivery.parked[0][1])
        if delivery.failure is not None:
            logger.warning(
                "posthog.send_failed count=%d error=%s (kept in the outbox, retried with backoff)",
                len(delivery.undelivered),
                delivery.failure.error,
            )
            break
        if len(claimed) < batch_size:
            break
    result = ForwardResult(sent=sent, skipped_opted_out=skipped, parked=parked, failed=failed, batches=batches)
    if batches:
        logger.info(
            "posthog.forwarded sent=%d skipped_opted_out=%d parked=%d failed=%d batches=%d",
            sent,
            skipped,
            parked,
            failed,
            batches,
        )
    return result


# --- health ----------------------------------------------------------------------------------------


def posthog_backlog() -> dict[str, Any]:
    """The outbox as /health reports it: pending (incl. retrying), retrying, parked, oldest age."""
    now: datetime = clock.now()
    counts = ForwardingOutbox.objects.filter(destination=POSTHOG).aggregate(
        pending=Count("id", filter=Q(parked_at__isnull=True)),
        retrying=Count("id", filter=Q(parked_at__isnull=True, attempts__gt=0)),
        parked=Count("id", filter=Q(parked_at__isnull=False)),
        oldest=Min("created_at", filter=Q(parked_at__isnull=True)),
    )
    oldest = counts["oldest"]
    return {
        "outbox_pending": counts["pending"],
        "outbox_retrying": counts["retrying"],
        "outbox_parked": counts["parked"],
        "oldest_pending_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
    }
