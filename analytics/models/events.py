"""Tracked events (append-only) and the quarantine for the ones that were refused."""

from __future__ import annotations

from django.db import models


class EventType(models.TextChoices):
    PAGE_VIEW = "page_view"
    USER_ACTION = "user_action"
    CONVERSION = "conversion"
    ENGAGEMENT = "engagement"
    ERROR = "error"
    API_CALL = "api_call"
    SYSTEM = "system"
    CUSTOM = "custom"


class EventSource(models.TextChoices):
    HTTP = "http"
    TRACKER = "tracker"
    MIDDLEWARE = "middleware"
    SIGNAL = "signal"
    SIMULATOR = "simulator"
    REPLAY = "replay"


class UserEvent(models.Model):
    """One tracked event: one recorded interaction on the Loopin platform.

    `uuid` is the idempotency key (exactly one row per uuid); `payload_hash` tells a replay of the
    same event (duplicate) from a different event reusing the uuid (conflict) in one query.
    """

    uuid = models.UUIDField(unique=True)
    payload_hash = models.CharField(max_length=32)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    event_name = models.CharField(max_length=200)
    user_id = models.CharField(max_length=128, null=True, blank=True)
    anonymous_id = models.CharField(max_length=128, null=True, blank=True)
    session_id = models.CharField(max_length=128, null=True, blank=True)
    timestamp = models.DateTimeField(help_text="When it happened (UTC, clock skew corrected)")
    received_at = models.DateTimeField(help_text="When the service received it (UTC)")
    sent_at = models.DateTimeField(null=True, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    page_url = models.CharField(max_length=2048, blank=True, default="")
    page_path = models.CharField(max_length=1024, blank=True, default="")
    referrer = models.CharField(max_length=2048, blank=True, default="")
    device_type = models.CharField(max_length=16, blank=True, default="")
    browser = models.CharField(max_length=64, blank=True, default="")
    os = models.CharField(max_length=64, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=64, blank=True, default="")
    ip_prefix = models.CharField(max_length=64, blank=True, default="", help_text="Truncated /24 or /48")
    response_time_ms = models.FloatField(null=True, blank=True)
    status_code = models.SmallIntegerField(null=True, blank=True)
    listing_id = models.CharField(max_length=64, null=True, blank=True)
    host_id = models.CharField(max_length=64, null=True, blank=True)
    revenue_impact = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    sentiment_score = models.FloatField(null=True, blank=True)
    engagement_level = models.CharField(max_length=16, blank=True, default="", db_default="")
    source = models.CharField(max_length=16, choices=EventSource.choices)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "analytics_user_event"
        indexes = [
            models.Index(fields=["timestamp"], name="ue_time"),
            # Covering on PostgreSQL: funnels read users, listings and ids of one event name over a range,
            # and the latency percentile reads response times, from the index alone (index-only scans).
            models.Index(
                fields=["event_name", "timestamp"],
                name="ue_name_time",
                include=["user_id", "listing_id", "id", "response_time_ms"],
            ),
            models.Index(fields=["user_id", "timestamp"], name="ue_user_time"),
            models.Index(fields=["session_id"], name="ue_session"),
            models.Index(fields=["listing_id", "timestamp"], name="ue_listing_time"),
            models.Index(fields=["anonymous_id"], name="ue_anonymous"),
            # The backlog: the processing task and the sweeper read only these rows.
            models.Index(fields=["id"], name="ue_unprocessed", condition=models.Q(processed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} {self.uuid}"


class FailedEvent(models.Model):
    """A refused tracked event kept for inspection and replay (after the same privacy scrub)."""

    received_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=EventSource.choices)
    reason = models.CharField(max_length=64, help_text="The rejection code, e.g. uuid_conflict")
    error_message = models.TextField()
    error_details = models.JSONField(default=dict, blank=True)
    event_uuid = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField()
    replayed_at = models.DateTimeField(null=True, blank=True)
    replay_status = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        db_table = "analytics_failed_event"
        indexes = [
            models.Index(fields=["received_at"], name="fe_received"),
            models.Index(fields=["reason", "received_at"], name="fe_reason_received"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} at {self.received_at:%Y-%m-%d %H:%M}"
