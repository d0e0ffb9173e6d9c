"""Export of a person's data (privacy issue, "Subject rights"): everything seeded for the person — their
anonymous history before they logged in included — and nothing of anyone else."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from analytics.models import AuditLog
from analytics.privacy.registry import PERSONAL_DATA
from analytics.security.audit import person_ref
from tests.support.privacy import ANON, OTHER, OTHER_ANON, OTHER_WORDS, PERSON, PRIVACY, WORDS, seed
from tests.unit.api.bi_support import bearer


def test_the_export_holds_everything_about_the_person_and_nothing_about_anyone_else(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    """Catches: a table left out of the export, anonymous history before identify left out, or another
    person's rows let in."""
    seed(client, key_headers, PERSON, ANON, WORDS)
    seed(client, key_headers, OTHER, OTHER_ANON, OTHER_WORDS)
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
        "analytics_ai_insight": 1,
        "analytics_audit_log": 1,  # the opt-out
    }
    events = body["tables"]["analytics_user_event"]
    assert {"path": "/", "note": WORDS} in [row["properties"] for row in events]  # before login
    text = orjson.dumps(body).decode()
    assert WORDS in text
    assert OTHER not in text and OTHER_ANON not in text and OTHER_WORDS not in text


def test_a_person_with_nothing_stored_gets_every_table_empty_and_the_export_is_audited(client: TestClient) -> None:
    response = client.get(f"{PRIVACY}/nobody/export", headers=bearer("admin"))
    assert response.status_code == 200, response.text[:300]
    assert all(rows == [] for rows in response.json()["tables"].values())
    assert list(AuditLog.objects.filter(action="privacy.export").values_list("target_id", flat=True)) == [
        person_ref("nobody")
    ]
