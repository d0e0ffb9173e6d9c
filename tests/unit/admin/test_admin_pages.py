"""The Django admin shows what the service holds, read-only: every registered model's list opens for a
superuser, and none can be added or edited there."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from analytics import models

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
)


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser(username="ops", email="", password="a-long-password-1")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_each_read_only_model_lists_for_staff_and_cannot_be_added(staff: Client, model: type) -> None:
    meta = model._meta
    assert admin.site.is_registered(model)
    assert staff.get(f"/admin/{meta.app_label}/{meta.model_name}/").status_code == 200
    assert staff.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 403
