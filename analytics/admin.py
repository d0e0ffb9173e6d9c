"""The Django admin: read-mostly views of what the service holds."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import (
    Alert,
    AlertNotification,
    ApiKey,
    AuditLog,
    BusinessMetric,
    DashboardUser,
    EventListing,
    FailedEvent,
    Session,
    UserBehaviorProfile,
    UserConsent,
    UserEvent,
    UserPersona,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tracked data is append-only: the admin shows it, it never edits it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(UserEvent)
class UserEventAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "event_name", "event_type", "user_id", "listing_id", "source", "processed_at")
    list_filter = ("event_type", "source")
    search_fields = ("event_name", "user_id", "anonymous_id", "session_id", "listing_id", "uuid")
    date_hierarchy = "timestamp"
    show_full_result_count = False


@admin.register(FailedEvent)
class FailedEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "reason", "source", "event_uuid", "replay_status")
    list_filter = ("reason", "source", "replay_status")
    search_fields = ("event_uuid", "error_message")


@admin.register(EventListing)
class EventListingAdmin(ReadOnlyAdmin):
    list_display = ("listing_id", "host_id", "category", "city", "price", "capacity", "starts_at", "status")
    list_filter = ("status", "category", "city")
    search_fields = ("listing_id", "host_id", "title")


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("session_id", "user_id", "started_at", "duration_seconds", "event_count")
    search_fields = ("session_id", "user_id")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "actor", "actor_role", "action", "target_type", "target_id")
    list_filter = ("action",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created and revoked with the management commands; only the hash is stored."""

    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(DashboardUser)
class DashboardUserAdmin(admin.ModelAdmin):
    """Dashboard roles: created with `create_dashboard_user` (it sets the password); an admin may change a
    role or host id here."""

    list_display = ("user", "role", "host_id", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "host_id")
    readonly_fields = ("user", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(UserConsent)
class UserConsentAdmin(admin.ModelAdmin):
    list_display = ("user_id", "analytics_opt_out", "updated_at")
    search_fields = ("user_id",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Alerts change state through the API (audit-logged), so the admin only shows them."""

    list_display = ("opened_at", "severity", "state", "metric_name", "value", "threshold", "period_start")
    list_filter = ("state", "severity", "source")
    search_fields = ("metric_name", "dedup_key")
    date_hierarchy = "opened_at"


@admin.register(AlertNotification)
class AlertNotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "alert", "kind", "channel", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "channel", "kind")


@admin.register(BusinessMetric)
class BusinessMetricAdmin(ReadOnlyAdmin):
    list_display = ("metric_name", "metric_type", "period_type", "period_start", "breakdown_key", "value", "status")
    list_filter = ("metric_type", "period_type", "status", "is_alert_triggered")
    search_fields = ("metric_name", "breakdown_key")
    date_hierarchy = "period_start"
    show_full_result_count = False


@admin.register(UserPersona)
class UserPersonaAdmin(ReadOnlyAdmin):
    list_display = ("name", "size", "confidence", "is_current", "run_id", "created_at")
    list_filter = ("is_current",)


@admin.register(UserBehaviorProfile)
class UserBehaviorProfileAdmin(ReadOnlyAdmin):
    list_display = ("user_id", "engagement_score", "engagement_trend", "primary_persona", "persona_strength", "as_of")
    list_filter = ("engagement_trend", "primary_persona__is_current")
    search_fields = ("user_id",)
    list_select_related = ("primary_persona",)
    show_full_result_count = False
