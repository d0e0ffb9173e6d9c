"""Delivering owed alert notifications: claim what is due, try each once, record, back off.

Run by the `deliver_alert_notifications` task (after each alert evaluation and every 30 s by beat),
never on a request. A notification that fails is tried again after an exponential backoff with
jitter (30 s, 1, 2, 4 … minutes up to an hour) until ANALYTICS_ALERT_DELIVERY_MAX_ATTEMPTS tries,
then it is `failed`; a receiver that refuses the body outright (400, 410, 413, 415, 422; an SMTP
server refusing every recipient) fails it at once. Every try is an `AlertDeliveryAttempt`. Claimed
rows are leased, so concurrent runs never send the same notification at the same time.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction

from analytics import clock
from analytics.metrics.alerting.channels import SENDERS, Sent
from analytics.models import AlertDeliveryAttempt, AlertNotification
from analytics.models.alerts import NotificationStatus

logger = logging.getLogger("analytics.alerts")

BATCH_SIZE = 20
MAX_PER_RUN = 200
RUN_BUDGET_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0  # given up


def backoff_seconds(attempts: int) -> float:
    """Delay after the `attempts`-th failed try: exponential, capped, with jitter."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 20))
    return random.uniform(ceiling / 2, ceiling)


def _claim(limit: int) -> list[AlertNotification]:
    now = clock.now()
    with transaction.atomic():
        due = AlertNotification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = list(due[:limit])
        if claimed:
            AlertNotification.objects.filter(id__in=[n.id for n in claimed]).update(
                next_attempt_at=now + timedelta(seconds=settings.ANALYTICS_DELIVERY_LEASE_SECONDS)
            )
    return claimed


def _send(notification: AlertNotification) -> Sent:
    sender = SENDERS.get(notification.channel)
    if sender is None:
        return Sent(ok=False, permanent=True, error="unknown_channel")
    try:
        return sender(payload=notification.payload, delivery_id=str(notification.id))
    except Exception as exc:  # a sender bug must not stop the run; the row is retried
        logger.exception("alert.delivery_crashed notification=%d", notification.id)
        return Sent(ok=False, error=type(exc).__name__)


def _record(notification: AlertNotification, sent: Sent, started: float) -> str:
    now = clock.now()
    attempts = notification.attempts + 1
    if sent.ok:
        status, next_at = NotificationStatus.SENT, now
    elif sent.permanent or attempts >= settings.ANALYTICS_ALERT_DELIVERY_MAX_ATTEMPTS:
        status, next_at = NotificationStatus.FAILED, now
    else:
        status, next_at = NotificationStatus.PENDING, now + timedelta(seconds=backoff_seconds(attempts))
    with transaction.atomic():
        AlertDeliveryAttempt.objects.create(
            notification=notification,
            attempted_at=now,
            succeeded=sent.ok,
            status_code=sent.status_code,
            error=sent.error[:200],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        AlertNotification.objects.filter(id=notification.id).update(
            status=status,
            attempts=attempts,
            next_attempt_at=next_at,
            sent_at=now if sent.ok else None,
            last_error="" if sent.ok else sent.error[:200],
        )
    if sent.ok:
        logger.info(
            "alert.delivered notification=%d channel=%s attempts=%d",
            notification.id,
            notification.channel,
            attempts,
        )
    else:
        logger.warning(
            "alert.delivery_failed notification=%d channel=%s attempts=%d error=%s status=%s",
            notification.id,
            notification.channel,
            attempts,
            sent.error,
            status,
        )
    return status


def alert_notifications_deliver(
    *, max_notifications: int = MAX_PER_RUN, budget_seconds: float = RUN_BUDGET_SECONDS
) -> DeliveryResult:
    """Try every due notification once (bounded by count and time). Safe to run concurrently."""
    started = time.monotonic()
    counts = {NotificationStatus.SENT: 0, NotificationStatus.PENDING: 0, NotificationStatus.FAILED: 0}
    handled = 0
    while handled < max_notifications and time.monotonic() - started <= budget_seconds:
        claimed = _claim(min(BATCH_SIZE, max_notifications - handled))
        if not claimed:
            break
        for notification in claimed:
            attempt_started = time.monotonic()
            counts[NotificationStatus(_record(notification, _send(notification), attempt_started))] += 1
        handled += len(claimed)
    return DeliveryResult(
        sent=counts[NotificationStatus.SENT],
        retrying=counts[NotificationStatus.PENDING],
        failed=counts[NotificationStatus.FAILED],
    )
