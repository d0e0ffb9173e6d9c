"""Alerts raised by something other than a metric row: models that could not be promoted, anomalies,
security events. One dedup key per condition; while an alert with that key is active it is refreshed,
not duplicated; a resolved key stays quiet for the cooldown; `alert_clear` resolves it when the
condition is gone. Notifications go out through the same channels as metric alerts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from analytics.metrics.alerting.lifecycle import SYSTEM_ACTOR, alert_close, notifications_owe
from analytics.models import Alert
from analytics.models.alerts import ACTIVE_STATES, AlertSeverity, AlertState, NotificationKind

_RANK = {AlertSeverity.WARNING.value: 1, AlertSeverity.CRITICAL.value: 2}


def alert_raise(
    *,
    source: str,
    dedup_key: str,
    subject: str,
    severity: AlertSeverity,
    title: str,
    message: str,
    now: datetime,
    value: float | None = None,
    threshold: float | None = None,
    unit: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
    dimensions: dict[str, Any] | None = None,
) -> Alert | None:
    """Open (or refresh) the alert of `dedup_key`; None while the key cools down after a resolution."""
    fields: dict[str, Any] = {
        "source": source,
        "metric_name": subject[:100],
        "severity": severity.value,
        "title": title[:200],
        "message": message,
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "period_type": "day" if period_start else "",
        "period_start": period_start,
        "period_end": period_end,
        "dimensions": dimensions or {},
        "last_evaluated_at": now,
    }
    with transaction.atomic():
        current = Alert.objects.select_for_update().filter(dedup_key=dedup_key, state__in=ACTIVE_STATES).first()
        if current is not None:
            rose = _RANK[severity.value] > _RANK[current.severity]
            for name, value_ in fields.items():
                setattr(current, name, value_)
            current.save()
            if rose:
                notifications_owe(alert=current, kind=NotificationKind.ESCALATED, now=now)
            return current
        cooldown = timedelta(minutes=settings.ANALYTICS_ALERT_COOLDOWN_MINUTES)
        if Alert.objects.filter(
            dedup_key=dedup_key, state=AlertState.RESOLVED, resolved_at__gt=now - cooldown
        ).exists():
            return None
        alert = Alert(dedup_key=dedup_key, state=AlertState.OPEN, opened_at=now, **fields)
        try:
            with transaction.atomic():
                alert.save()
        except IntegrityError:  # a concurrent raise opened this key first
            return Alert.objects.filter(dedup_key=dedup_key, state__in=ACTIVE_STATES).first()
        notifications_owe(alert=alert, kind=NotificationKind.OPENED, now=now)
        return alert


def alert_clear(*, dedup_key: str, now: datetime) -> bool:
    """Resolve the active alert of `dedup_key` (the condition is gone); False if there was none."""
    with transaction.atomic():
        current = Alert.objects.select_for_update().filter(dedup_key=dedup_key, state__in=ACTIVE_STATES).first()
        if current is None:
            return False
        alert_close(alert=current, by=SYSTEM_ACTOR, now=now)
        return True
