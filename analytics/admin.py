"""The Django admin: read-mostly views of what the service holds."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from analytics import clock
from analytics.models import (
    Alert,
    AlertNotification,
    ApiKey,
    AuditLog,
    BusinessMetric,
    DashboardUser,
    DetectedAnomaly,
    EventListing,
    FailedEvent,
    ListingAttendanceForecast,
    PredictionModel,
    ReportDelivery,
    RevenueForecast,
    ScheduleSlot,
    Session,
    TaskRun,
    UserBehaviorProfile,
    UserConsent,
    UserEvent,
    UserPersona,
    UserPrediction,
    WorkerHeartbeat,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tracked data is append-only: the admin shows it, it never edits it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RecentFilter(admin.SimpleListFilter):
    """When it happened, as recent ranges over the `ue_time` index (a date hierarchy would scan every row for
    the distinct years and months)."""

    title = "when"
    parameter_name = "when"
    RANGES = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("1h", "last hour"), ("24h", "last 24 hours"), ("7d", "last 7 days"), ("30d", "last 30 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        span = self.RANGES.get(self.value() or "")
        return queryset if span is None else queryset.filter(timestamp__gte=clock.now() - span)


class EstimatedCountPaginator(Paginator):
    """The unfiltered list of a big table: PostgreSQL's planner estimate of its rows instead of COUNT(*) over
    all of them (exact on SQLite and whenever a filter or search narrows the list)."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [UserEvent._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] > 0:
                return int(row[0])
        return super().count


@admin.register(UserEvent)
class UserEventAdmin(ReadOnlyAdmin):
    """Opens in well under a second at a million rows: newest first over the `ue_time` index, the page's rows
    only, no full count, no date hierarchy (docs/benchmarks.md, "Admin")."""

    list_display = ("timestamp", "event_name", "event_type", "user_id", "listing_id", "source", "processed_at")
    list_filter = (RecentFilter, "source")
    # The search box: exact, case-sensitive matches on indexed columns (get_search_results below).
    search_fields = ("user_id", "session_id", "listing_id", "event_name", "uuid")
    ordering = ("-timestamp",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Exact ids over their indexes (ue_user_time, ue_session, ue_listing_time, ue_name_time, the uuid's
        unique index). Django's default (case-insensitive UPPER() matches, or an unindexed column such as
        anonymous_id OR-ed in) scans every row: 1.3 s at a million."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(user_id=term) | Q(session_id=term) | Q(listing_id=term) | Q(event_name=term)
        try:
            match |= Q(uuid=uuid_lib.UUID(term))
        except ValueError:
            pass
        return queryset.filter(match), False


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


@admin.register(PredictionModel)
class PredictionModelAdmin(ReadOnlyAdmin):
    """The model registry: every trained version, why it was promoted or rejected (artefacts not loaded)."""

    list_display = ("name", "version", "status", "algorithm", "trained_at", "primary_metric", "training_rows")
    list_filter = ("name", "status")
    exclude = ("artefact",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).defer("artefact")


@admin.register(DetectedAnomaly)
class DetectedAnomalyAdmin(ReadOnlyAdmin):
    list_display = ("day", "metric_name", "severity", "direction", "expected_value", "actual_value", "z_score")
    list_filter = ("metric_name", "severity", "harmful")


@admin.register(UserPrediction)
class UserPredictionAdmin(ReadOnlyAdmin):
    list_display = ("user_id", "scored_on", "churn_risk", "conversion_probability", "churn_model_version")
    search_fields = ("=user_id",)
    show_full_result_count = False


@admin.register(ListingAttendanceForecast)
class ListingAttendanceForecastAdmin(ReadOnlyAdmin):
    list_display = ("listing_id", "expected_attendance", "low", "high", "confirmed_seats", "lead_days", "computed_at")
    search_fields = ("=listing_id",)


@admin.register(RevenueForecast)
class RevenueForecastAdmin(ReadOnlyAdmin):
    list_display = ("scope", "day", "expected", "low", "high", "method", "model_version")
    search_fields = ("=scope",)


@admin.register(TaskRun)
class TaskRunAdmin(ReadOnlyAdmin):
    """The last run of every scheduled task (and the metrics run), as GET /health/detailed lists them."""

    list_display = (
        "name",
        "started_at",
        "finished_at",
        "succeeded",
        "finished_runs",
        "failed_runs",
        "retries",
        "error",
    )
    list_filter = ("succeeded",)


@admin.register(ScheduleSlot)
class ScheduleSlotAdmin(ReadOnlyAdmin):
    """Each beat entry's last claimed slot; `skipped` above 0 means a second beat process sent it too."""

    list_display = ("entry", "claimed_at", "runs", "skipped")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("hostname", "pid", "started_at", "last_seen")


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("period_type", "period_start", "period_end", "sent_at")
    list_filter = ("period_type",)
