"""Export of a person's data (privacy issue, "Subject rights"): everything seeded for the person — their
anonymous history before they logged in included — and nothing of anyone else."""

from __future__ import annotations

from datetime import timedelta

import orjson
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.processing import process_pending_events
from analytics.metrics.rollups import rollups_rebuild
from analytics.models import AuditLog, UserPrediction
from analytics.privacy.registry import PERSONAL_DATA
from analytics.security.audit import person_ref
from tests.factories import event
from tests.unit.api.bi_support import bearer

PRIVACY = "/api/analytics/privacy/users"
BATCH = "/api/analytics/events/batch"
PERSON, ANON = "user-4711", "anon-4711"
OTHER, OTHER_ANON = "user-0815", "anon-0815"


def _seed(client: TestClient, key_headers: dict[str, str], user_id: str, anonymous_id: str, note: str) -> None:
    events = [
        event(event_name="page_view", user_id=None, anonymous_id=anonymous_id, properties={"path": "/", "note": note}),
        event(event_name="page_view", user_id=user_id, anonymous_id=anonymous_id, properties={"path": "/login"}),
        event(event_name="event_viewed", user_id=user_id, properties={"listing_id": "L1"}),
        {"event_name": "", "user_id": user_id},  # refused: quarantined as sent
        {"event_name": "", "anonymous_id": anonymous_id},  # refused before login: found by the linked id
    ]
    response = client.post(BATCH, json={"events": events}, headers=key_headers)
    assert response.status_code == 200, response.text[:300]
    assert (response.json()["stored"], response.json()["rejected"]) == (3, 2)


def test_the_export_holds_everything_about_the_person_and_nothing_about_anyone_else(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    """Catches: a table left out of the export, anonymous history before identify left out, or another
    person's rows let in."""
    _seed(client, key_headers, PERSON, ANON, "the person's own words")
    _seed(client, key_headers, OTHER, OTHER_ANON, "someone else's words")
    process_pending_events()
    today = clock.now().date()
    rollups_rebuild(days=[today - timedelta(days=1), today, today + timedelta(days=1)])  # whichever is IST's
    UserPrediction.objects.create(
        user_id=PERSON, scored_on="2026-03-10", scored_at="2026-03-10T12:00:00Z", churn_risk=0.2
    )
    assert client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=bearer("admin")).status_code == 200

    response = client.get(f"{PRIVACY}/{PERSON}/export", headers=bearer("admin"))

    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert (body["user_id"], body["anonymous_ids"]) == (PERSON, [ANON])
    assert set(body["tables"]) == {entry.table for entry in PERSONAL_DATA}
    found = {table: len(rows) for table, rows in body["tables"].items() if rows}
    assert found.pop("analytics_session") >= 1 and found.pop("analytics_session_cursor") >= 1
    assert found == {
        "analytics_user_event": 3,
        "analytics_identity_link": 1,
        "analytics_failed_event": 2,
        "analytics_user_consent": 1,
        "analytics_daily_user_activity": 1,
        "analytics_daily_user_event": 2,
        "analytics_user_first_activity": 1,
        "analytics_user_prediction": 1,
        "analytics_audit_log": 1,  # the opt-out
    }
    events = body["tables"]["analytics_user_event"]
    assert {"path": "/", "note": "the person's own words"} in [row["properties"] for row in events]  # pre-login
    text = orjson.dumps(body).decode()
    assert "the person's own words" in text
    assert OTHER not in text and OTHER_ANON not in text and "someone else" not in text


def test_a_person_with_nothing_stored_gets_every_table_empty_and_the_export_is_audited(client: TestClient) -> None:
    response = client.get(f"{PRIVACY}/nobody/export", headers=bearer("admin"))
    assert response.status_code == 200, response.text[:300]
    assert all(rows == [] for rows in response.json()["tables"].values())
    assert list(AuditLog.objects.filter(action="privacy.export").values_list("target_id", flat=True)) == [
        person_ref("nobody")
    ]
