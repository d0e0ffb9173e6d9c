"""The audit log (docs/operations.md, "Audit log"): every read of a person's data and every export names the
person only by a keyed hash and records the requester's IP prefix; the admin's changes are audited;
GET /audit lists it for admins, filtered and paginated."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from fastapi.testclient import TestClient

from analytics.collection.buffer import event_buffer
from analytics.models import ApiKey, AuditLog
from analytics.security.api_keys import api_key_create
from analytics.security.audit import person_ref
from tests.support.logins import verified_client
from tests.unit.api.bi_support import bearer
from tests.unit.metrics.support import ev, ingest

API = "/api/analytics"


def test_reading_a_persons_behaviour_is_audited_under_a_hash_with_the_ip_prefix(
    client_from: Callable[[str], TestClient],
) -> None:
    ingest(ev("page_view", "2026-03-10T10:00", user="priya-42", path="/"))
    response = client_from("203.0.113.77").post(
        f"{API}/user-behavior", json={"user_id": "priya-42", "days": 30}, headers=bearer("admin")
    )
    assert response.status_code == 200
    entry = AuditLog.objects.get(action="behaviour.analyze")
    assert entry.target_id == person_ref("priya-42") and "priya-42" not in str(entry.__dict__)
    assert (entry.actor, entry.ip_prefix) == ("t-admin", "203.0.113.0/24")
    assert person_ref("priya-42") == person_ref("priya-42") != person_ref("priya-43")


def test_an_export_for_one_person_is_audited_under_the_same_hash(client: TestClient) -> None:
    response = client.get(
        f"{API}/export/events",
        params={"start_date": "2026-03-01", "end_date": "2026-03-10", "user_id": "priya-42"},
        headers=bearer("admin"),
    )
    assert response.status_code == 200
    entry = AuditLog.objects.get(action="export.events")
    assert entry.target_id == person_ref("priya-42")


@pytest.mark.django_db(transaction=True)
def test_the_admins_changes_are_audited() -> None:
    staff = get_user_model().objects.create_superuser(username="ops", password="a-long-password-1")
    api_key_create(name="app")
    stored = ApiKey.objects.get()
    browser = verified_client(staff)
    response = browser.post(f"/admin/analytics/apikey/{stored.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="admin.delete")
    assert (entry.actor, entry.target_type, entry.target_id) == ("admin:ops", "apikey", str(stored.id))
    assert event_buffer().flush(timeout=10)  # the host middleware's request events land inside this test


def test_the_audit_log_is_for_admins_filtered_and_paginated(client: TestClient) -> None:
    for n in range(3):
        api_key_create(name=f"k{n}")
    assert client.get(f"{API}/audit", headers=bearer("analyst")).status_code == 403
    page = client.get(f"{API}/audit", params={"action": "api_key.", "limit": 2}, headers=bearer("admin")).json()
    assert page["total"] == 3 and len(page["results"]) == 2
    assert all(row["action"] == "api_key.create" for row in page["results"])
    rest = client.get(f"{API}/audit", params={"action": "api_key.", "limit": 2, "offset": 2}, headers=bearer("admin"))
    assert len(rest.json()["results"]) == 1
    assert client.get(f"{API}/audit", params={"limit": 0}, headers=bearer("admin")).status_code == 422
