"""The Django admin shows what the service holds, read-only: every registered model's list opens for a
superuser, and none can be added or edited there."""

from __future__ import annotations

import uuid

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from analytics import models
from tests.support.logins import verified_client

pytestmark = pytest.mark.django_db

READ_ONLY = (
    models.UserEvent,
    models.FailedEvent,
    models.EventListing,
    models.Session,
    models.AuditLog,
    models.Alert,
    models.AlertNotification,
    models.BusinessMetric,
    models.UserPersona,
    models.UserBehaviorProfile,
    models.PredictionModel,
    models.DetectedAnomaly,
    models.UserPrediction,
    models.ListingAttendanceForecast,
    models.RevenueForecast,
    models.TaskRun,
    models.WorkerHeartbeat,
    models.ReportDelivery,
)


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser(username="ops", email="", password="a-long-password-1")
    return verified_client(user)


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_each_read_only_model_lists_for_staff_and_cannot_be_added(staff: Client, model: type) -> None:
    meta = model._meta
    assert admin.site.is_registered(model)
    assert staff.get(f"/admin/{meta.app_label}/{meta.model_name}/").status_code == 200
    assert staff.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 403


def _event(user: str, *, hours_ago: float, session: str = "s1") -> models.UserEvent:
    from datetime import timedelta

    from analytics import clock

    at = clock.now() - timedelta(hours=hours_ago)
    return models.UserEvent.objects.create(
        uuid=uuid.uuid4(),
        payload_hash="x",
        event_type="user_action",
        event_name="page_view",
        user_id=user,
        session_id=session,
        timestamp=at,
        received_at=at,
        source="http",
    )


def test_tracked_events_are_searched_by_exact_ids_and_filtered_by_recent_ranges(staff: Client) -> None:
    """The list stays fast at a million rows (docs/benchmarks.md, "Admin"): an id is matched exactly over its
    index — u1 does not find u10 — and 'when' narrows to recent ranges instead of a date hierarchy."""
    recent, old, other = _event("u1", hours_ago=2), _event("u1", hours_ago=24 * 10), _event("u10", hours_ago=1)
    listed = staff.get("/admin/analytics/userevent/", {"q": "u1"}).context["cl"].result_list
    assert {e.id for e in listed} == {recent.id, old.id}
    by_uuid = staff.get("/admin/analytics/userevent/", {"q": str(other.uuid)}).context["cl"].result_list
    assert [e.id for e in by_uuid] == [other.id]
    last_day = staff.get("/admin/analytics/userevent/", {"when": "24h"}).context["cl"].result_list
    assert {e.id for e in last_day} == {recent.id, other.id}
