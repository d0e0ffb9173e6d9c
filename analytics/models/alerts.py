"""Alerts opened by metrics past their thresholds (and, later, by anomalies), and their notifications.

An `Alert` moves open → acknowledged → resolved. At most one alert per `dedup_key` is active (open or
acknowledged) — a partial unique constraint holds that even under concurrent evaluations. Every
notification an alert owes a channel (webhook, email) is an `AlertNotification` row, delivered by a
task with retries; each try is an `AlertDeliveryAttempt`.
"""

from __future__ import annotations

from django.db import models


class AlertSource(models.TextChoices):
    METRIC = "metric"
    ANOMALY = "anomaly"
    MODEL = "model"  # a trained model that could not be promoted (analytics/intelligence/registry.py)
    SECURITY = "security"  # a burst of failed authentications or refused requests (analytics/api/rate_limiting.py)


class AlertSeverity(models.TextChoices):
    WARNING = "warning"  # the metric's status is amber (past its warning threshold)
    CRITICAL = "critical"  # red (past its critical threshold)


class AlertState(models.TextChoices):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


ACTIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Alert(models.Model):
    source = models.CharField(max_length=16, choices=AlertSource.choices, default=AlertSource.METRIC)
    metric_name = models.CharField(max_length=100)
    metric_type = models.CharField(max_length=3, blank=True, default="")
    severity = models.CharField(max_length=8, choices=AlertSeverity.choices)
    state = models.CharField(max_length=12, choices=AlertState.choices, default=AlertState.OPEN)
    dedup_key = models.CharField(max_length=255, help_text="source:metric:period type:breakdown")
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True, default="")
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True, default="")
    period_type = models.CharField(max_length=5, blank=True, default="")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    breakdown_key = models.CharField(max_length=200, blank=True, default="")
    dimensions = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    last_evaluated_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=128, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=128, blank=True, default="", help_text="'system' = auto-resolved")

    class Meta:
        db_table = "analytics_alert"
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=models.Q(state__in=["open", "acknowledged"]),
                name="alert_one_active_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "opened_at"], name="alert_state_opened"),
            models.Index(fields=["dedup_key", "resolved_at"], name="alert_key_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.metric_name} [{self.state}]"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class NotificationKind(models.TextChoices):
    OPENED = "opened"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class NotificationChannel(models.TextChoices):
    WEBHOOK = "webhook"
    EMAIL = "email"


class NotificationStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up: refused outright or out of attempts


class AlertNotification(models.Model):
    """One message an alert owes one channel; `payload` is the alert as it was when the change happened."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "analytics_alert_notification"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="an_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} of alert {self.alert_id} [{self.status}]"


class AlertDeliveryAttempt(models.Model):
    """One try to deliver a notification, and how it went."""

    notification = models.ForeignKey(AlertNotification, on_delete=models.CASCADE, related_name="delivery_attempts")
    attempted_at = models.DateTimeField()
    succeeded = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_alert_delivery_attempt"

    def __str__(self) -> str:
        return f"attempt on {self.notification_id}: {'ok' if self.succeeded else self.error}"
