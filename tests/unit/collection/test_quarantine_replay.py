"""The data-recovery paths, run for real: refused events replayed after the fix (API route and command), and a
write key revoked from the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from fastapi.testclient import TestClient

from analytics.models import AuditLog, FailedEvent, UserEvent
from analytics.security.api_keys import api_key_create
from tests.factories import event

BATCH = "/api/analytics/events/batch"
TRACK = "/api/analytics/events/track"
REPLAY = "/api/analytics/events/failed/replay"


def _old_and_broken(client: TestClient, key_headers: dict[str, str]) -> tuple[dict, dict, dict]:
    """A batch of one good event, one older than the retention horizon and one without a name."""
    settings.ANALYTICS_RETENTION_DAYS = 120
    good = event()
    old = event(timestamp=(datetime.now(UTC) - timedelta(days=200)).isoformat())
    broken = event(event_name=None)
    response = client.post(BATCH, json={"events": [good, old, broken]}, headers=key_headers)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["stored", "rejected", "rejected"]
    assert FailedEvent.objects.filter(reason="older_than_retention").count() == 1
    assert FailedEvent.objects.filter(reason="missing_field").count() == 1
    return good, old, broken


def test_replay_through_the_api_stores_what_the_fix_now_accepts_exactly_once(
    client: TestClient, key_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    good, old, _ = _old_and_broken(client, key_headers)
    settings.ANALYTICS_RETENTION_DAYS = 36500  # the fix: a longer retention horizon

    response = client.post(REPLAY, json={"reason": "older_than_retention"}, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"replayed": 1, "stored": 1, "duplicates": 0, "rejected": 0, "dropped": 0}
    stored = UserEvent.objects.get(uuid=old["uuid"])
    assert stored.timestamp == datetime.fromisoformat(old["timestamp"])  # the event as it was sent
    assert stored.source == "replay"
    assert FailedEvent.objects.get(reason="older_than_retention").replay_status == "stored"
    assert AuditLog.objects.filter(action="failed_events.replay").count() == 1

    again = client.post(REPLAY, json={"reason": "older_than_retention"}, headers=admin_headers)
    assert again.json()["replayed"] == 0  # settled: never replayed twice
    assert sorted(map(str, UserEvent.objects.values_list("uuid", flat=True))) == sorted([good["uuid"], old["uuid"]])


def test_replay_command_keeps_what_is_still_invalid_for_the_next_fix(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    _, old, _ = _old_and_broken(client, key_headers)
    settings.ANALYTICS_RETENTION_DAYS = 36500
    broken_id = FailedEvent.objects.get(reason="missing_field").id
    old_id = FailedEvent.objects.get(reason="older_than_retention").id

    out = StringIO()
    call_command("replay_failed_events", "--id", str(broken_id), "--id", str(old_id), stdout=out)
    assert out.getvalue().strip() == "replayed=2 stored=1 duplicates=0 rejected=1 dropped=0"
    assert UserEvent.objects.filter(uuid=old["uuid"]).exists()
    assert FailedEvent.objects.get(id=broken_id).replay_status == "rejected"
    assert FailedEvent.objects.count() == 2  # still invalid: stays in the quarantine once, not twice

    out = StringIO()
    call_command("replay_failed_events", "--reason", "missing_field", stdout=out)
    assert out.getvalue().strip() == "replayed=1 stored=0 duplicates=0 rejected=1 dropped=0"  # replayable again
    with pytest.raises(CommandError, match="give --reason or --id"):
        call_command("replay_failed_events")


def test_revoke_api_key_command_makes_the_key_answer_401(client: TestClient) -> None:
    created = api_key_create(name="to revoke")
    headers = {"X-API-Key": created.key}
    assert client.post(TRACK, json=event(), headers=headers).status_code == 200

    out = StringIO()
    call_command("revoke_api_key", "--prefix", created.prefix, stdout=out)
    assert out.getvalue().strip() == f"Revoked write key #{created.id} 'to revoke' ({created.prefix})."
    response = client.post(TRACK, json=event(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert AuditLog.objects.filter(action="api_key.revoke").count() == 1
    with pytest.raises(CommandError):
        call_command("revoke_api_key", "--prefix", "lak_nothere")
