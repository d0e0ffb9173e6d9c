"""The one write path for an alert's state, the notifications each change owes, and the reads.

States: open → acknowledged → resolved, or open → resolved. Any other move is a `Conflict` (409).
Every change writes, in its own transaction, one `AlertNotification` per enabled channel (webhook
when ANALYTICS_ALERT_WEBHOOK_URL is set, e-mail when ANALYTICS_ALERT_EMAILS is) and one log line
(the log channel, always). Nothing is sent here: a task delivers the notifications, so a slow or
failing channel never blocks a state change or a request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from analytics import clock
from analytics.errors import Conflict, NotFound
from analytics.models import Alert, AlertNotification
from analytics.models.alerts import AlertState, NotificationChannel, NotificationKind
from analytics.security.audit import audit_record

logger = logging.getLogger("analytics.alerts")

SYSTEM_ACTOR = "system"


def enabled_channels() -> list[str]:
    """The delivery channels switched on by their settings (the log channel is always on)."""
    channels = []
    if settings.ANALYTICS_ALERT_WEBHOOK_URL:
        channels.append(NotificationChannel.WEBHOOK.value)
    if settings.ANALYTICS_ALERT_EMAILS:
        channels.append(NotificationChannel.EMAIL.value)
    return channels


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert as channels receive it (no PII: metric values, periods and dimensions only)."""
    return {
        "id": alert.id,
        "source": alert.source,
        "metric_name": alert.metric_name,
        "metric_type": alert.metric_type,
        "severity": alert.severity,
        "state": alert.state,
        "dedup_key": alert.dedup_key,
        "title": alert.title,
        "message": alert.message,
        "value": alert.value,
        "threshold": alert.threshold,
        "unit": alert.unit,
        "period_type": alert.period_type,
        "period_start": _iso(alert.period_start),
        "period_end": _iso(alert.period_end),
        "dimensions": alert.dimensions,
        "opened_at": _iso(alert.opened_at),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by or None,
        "resolved_at": _iso(alert.resolved_at),
        "resolved_by": alert.resolved_by or None,
    }


def notifications_owe(*, alert: Alert, kind: NotificationKind, now: datetime) -> int:
    """Log the change (the log channel) and owe every enabled channel a message about it."""
    log = logger.warning if kind in (NotificationKind.OPENED, NotificationKind.ESCALATED) else logger.info
    log(
        "alert.%s id=%d key=%s severity=%s value=%s threshold=%s",
        kind.value,
        alert.id,
        alert.dedup_key,
        alert.severity,
        alert.value,
        alert.threshold,
    )
    payload = {"type": f"alert.{kind.value}", "alert": alert_payload(alert)}
    rows = [
        AlertNotification(
            alert=alert,
            kind=kind.value,
            channel=channel,
            payload=payload,
            created_at=now,
            next_attempt_at=now,
        )
        for channel in enabled_channels()
    ]
    AlertNotification.objects.bulk_create(rows)
    return len(rows)


# --- state changes ---------------------------------------------------------------------------------


def _locked(alert_id: int) -> Alert:
    try:
        return Alert.objects.select_for_update().get(id=alert_id)
    except Alert.DoesNotExist:
        raise NotFound(f"no alert with id {alert_id}", code="alert_not_found") from None


def alert_acknowledge(*, alert_id: int, actor: str, actor_role: str = "") -> Alert:
    """open → acknowledged (someone is on it). 404 unknown id; 409 from any other state."""
    with transaction.atomic():
        alert = _locked(alert_id)
        if alert.state != AlertState.OPEN:
            raise Conflict(
                f"alert {alert_id} is {alert.state}; only an open alert can be acknowledged",
                code=f"alert_already_{alert.state}",
                details={"state": alert.state},
            )
        now = clock.now()
        alert.state = AlertState.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = actor[:128]
        alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
        notifications_owe(alert=alert, kind=NotificationKind.ACKNOWLEDGED, now=now)
        audit_record(
            actor=actor,
            actor_role=actor_role,
            action="alert.acknowledge",
            target_type="alert",
            target_id=str(alert.id),
            details={"from": AlertState.OPEN.value, "to": alert.state},
        )
    return alert


def alert_resolve(*, alert_id: int, actor: str, actor_role: str = "") -> Alert:
    """open or acknowledged → resolved by a person. 404 unknown id; 409 when already resolved.

    The key then cools down: the same metric and breakdown does not open a new alert for
    ANALYTICS_ALERT_COOLDOWN_MINUTES, even if it is still past its threshold.
    """
    with transaction.atomic():
        alert = _locked(alert_id)
        if alert.state == AlertState.RESOLVED:
            raise Conflict(
                f"alert {alert_id} is already resolved",
                code="alert_already_resolved",
                details={"state": alert.state},
            )
        previous = alert.state
        alert_close(alert=alert, by=actor, now=clock.now())
        audit_record(
            actor=actor,
            actor_role=actor_role,
            action="alert.resolve",
            target_type="alert",
            target_id=str(alert.id),
            details={"from": previous, "to": alert.state},
        )
    return alert


def alert_close(*, alert: Alert, by: str, now: datetime) -> int:
    """Resolve an active alert (inside the caller's transaction, the row locked); returns the
    notifications owed."""
    alert.state = AlertState.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = by[:128]
    alert.save(update_fields=["state", "resolved_at", "resolved_by"])
    return notifications_owe(alert=alert, kind=NotificationKind.RESOLVED, now=now)


# --- reads -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertPage:
    total: int
    alerts: list[Alert]


def alert_list(
    *,
    state: str | None = None,
    severity: str | None = None,
    metric: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AlertPage:
    """Alerts, newest first, with their notifications."""
    queryset = Alert.objects.all()
    if state:
        queryset = queryset.filter(state=state)
    if severity:
        queryset = queryset.filter(severity=severity)
    if metric:
        queryset = queryset.filter(metric_name=metric)
    page = queryset.order_by("-opened_at", "-id").prefetch_related("notifications")[offset : offset + limit]
    return AlertPage(total=queryset.count(), alerts=list(page))


def alert_get(*, alert_id: int) -> Alert:
    try:
        return Alert.objects.prefetch_related("notifications").get(id=alert_id)
    except Alert.DoesNotExist:
        raise NotFound(f"no alert with id {alert_id}", code="alert_not_found") from None
