"""POST /api/analytics/events/batch: per-event outcomes, exactly-once storage, whole-batch refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from django.conf import LazySettings
from fastapi.testclient import TestClient

from analytics.models import FailedEvent, UserEvent
from tests.assertions import assert_error, row_text
from tests.factories import event, payment_event

BATCH = "/api/analytics/events/batch"
TRACK = "/api/analytics/events/track"
MB = 1024 * 1024


def post(client: TestClient, headers: dict[str, str], body: Any) -> Any:
    return client.post(BATCH, json=body, headers=headers)


def assert_counts_add_up(body: dict[str, Any], sent: int) -> None:
    assert body["stored"] + body["duplicates"] + body["rejected"] + body["dropped"] == sent
    assert [r["index"] for r in body["results"]] == list(range(sent))
    for result in body["results"]:
        if result["status"] == "rejected":
            assert result["reason"] and result["message"] and result["errors"], result


@pytest.mark.parametrize("shape", ["object", "bare_array"])
def test_batch_accepts_events_object_and_bare_array(
    client: TestClient, key_headers: dict[str, str], shape: str
) -> None:
    events = [event(), event(), event()]
    response = post(client, key_headers, {"events": events} if shape == "object" else events)
    assert response.status_code == 200
    body = response.json()
    assert (body["stored"], body["duplicates"], body["rejected"], body["dropped"]) == (3, 0, 0, 0)
    assert [r["uuid"] for r in body["results"]] == [e["uuid"] for e in events]
    assert UserEvent.objects.count() == 3


def test_replayed_batch_stores_each_uuid_once(client: TestClient, key_headers: dict[str, str]) -> None:
    events = [event() for _ in range(4)]
    post(client, key_headers, {"events": events})
    body = post(client, key_headers, {"events": events}).json()
    assert (body["stored"], body["duplicates"]) == (0, 4)
    assert {r["status"] for r in body["results"]} == {"duplicate"}
    assert UserEvent.objects.count() == 4


def test_same_uuid_twice_in_a_batch_is_stored_once(client: TestClient, key_headers: dict[str, str]) -> None:
    raw = event()
    body = post(client, key_headers, {"events": [raw, raw]}).json()
    assert [r["status"] for r in body["results"]] == ["stored", "duplicate"]
    assert UserEvent.objects.filter(uuid=raw["uuid"]).count() == 1


def test_conflicting_uuid_in_a_batch_is_rejected_and_the_row_kept(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    raw = event(properties={"button": "join"})
    client.post(TRACK, json=raw, headers=key_headers)
    body = post(client, key_headers, {"events": [event(), {**raw, "properties": {"button": "leave"}}]}).json()
    assert_counts_add_up(body, 2)
    assert body["results"][1]["status"] == "rejected" and body["results"][1]["reason"] == "uuid_conflict"
    assert UserEvent.objects.get(uuid=raw["uuid"]).properties == {"button": "join"}


def test_invalid_events_are_rejected_one_by_one_and_quarantined_scrubbed(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    events = [
        event(),
        event(event_name="", properties={"note": "from priya@example.com"}),
        payment_event(amount="lots"),
        event(uuid="not-a-uuid"),
        event(unexpected=True),
        event(),
    ]
    response = post(client, key_headers, {"events": events})
    assert response.status_code == 200
    body = response.json()
    assert_counts_add_up(body, len(events))
    assert (body["stored"], body["rejected"]) == (2, 4)
    assert [r["reason"] for r in body["results"]] == [
        None,
        "missing_field",
        "invalid_property",
        "invalid_uuid",
        "unknown_field",
        None,
    ]
    assert UserEvent.objects.count() == 2
    assert sorted(FailedEvent.objects.values_list("reason", flat=True)) == sorted(
        ["missing_field", "invalid_property", "invalid_uuid", "unknown_field"]
    )
    quarantined = FailedEvent.objects.get(reason="missing_field")
    assert "priya@example.com" not in row_text(quarantined)
    assert quarantined.payload["properties"]["note"] == "from [email]"


def test_event_over_one_mb_is_rejected_in_a_batch_and_the_rest_stored(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    big = event(properties={"blob": "x" * MB})
    body = post(client, key_headers, {"events": [event(), big, event()]}).json()
    assert_counts_add_up(body, 3)
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["reason"] == "event_too_large"
    assert UserEvent.objects.count() == 2
    assert FailedEvent.objects.get().reason == "event_too_large"


def test_batch_sent_at_corrects_clock_skew(
    client: TestClient, key_headers: dict[str, str], frozen_now: datetime
) -> None:
    client_now = frozen_now - timedelta(hours=2)
    raw = event(timestamp=(client_now - timedelta(minutes=5)).isoformat())
    post(client, key_headers, {"events": [raw], "sent_at": client_now.isoformat()})
    assert UserEvent.objects.get(uuid=raw["uuid"]).timestamp == frozen_now - timedelta(minutes=5)


def test_disabled_analytics_drops_the_batch_and_stores_nothing(
    client: TestClient, key_headers: dict[str, str], settings: LazySettings
) -> None:
    settings.ANALYTICS_ENABLED = False
    response = post(client, key_headers, {"events": [event(), event()]})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "dropped" and body["reason"] == "analytics_disabled"
    assert (body["stored"], body["dropped"]) == (0, 2)
    assert {r["status"] for r in body["results"]} == {"dropped"}
    assert UserEvent.objects.count() == 0 and FailedEvent.objects.count() == 0


def test_ten_thousand_events_are_accepted(client: TestClient, key_headers: dict[str, str]) -> None:
    events = [{"event_name": "tick", "anonymous_id": f"a{i}"} for i in range(10_000)]
    body = post(client, key_headers, events).json()
    assert body["stored"] == 10_000
    assert UserEvent.objects.count() == 10_000


# --- whole-batch refusals: nothing stored, the one error shape, and the client stays usable ---------


def oversized_body() -> bytes:
    padding = " " * (20 * MB)
    return b'{"events": [' + orjson.dumps(event()) + padding.encode() + b"]}"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b'{"events": [{"event_name": "x"}', "application/json", 400, "invalid_json"),
        (
            b'{"events": [{"event_name": "x", "properties": {"n": NaN}}]}',
            "application/json",
            400,
            "invalid_json",
        ),
        (b"", "application/json", 400, "invalid_json"),
        (orjson.dumps({"events": [event()]}), "text/plain", 415, "unsupported_media_type"),
        (
            orjson.dumps({"events": [event()]}),
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
        (b"{}", "application/json", 422, "missing_events"),
        (b'{"events": []}', "application/json", 422, "empty_batch"),
        (b"[]", "application/json", 422, "empty_batch"),
        (b'{"events": null}', "application/json", 422, "invalid_events"),
        (b'{"events": {"event_name": "x"}}', "application/json", 422, "invalid_events"),
        (b'"events"', "application/json", 422, "invalid_batch"),
        (orjson.dumps({"events": [event()], "batch_id": 1}), "application/json", 422, "unknown_field"),
        (orjson.dumps([{"event_name": "x"}] * 10_001), "application/json", 413, "batch_too_large"),
        (None, "application/json", 413, "payload_too_large"),
    ],
    ids=[
        "malformed_json",
        "nan_literal",
        "empty_body",
        "text_plain",
        "form",
        "missing_events",
        "empty_events",
        "empty_array",
        "null_events",
        "events_not_a_list",
        "not_an_object",
        "unknown_batch_field",
        "10001_events",
        "over_20_mb",
    ],
)
def test_whole_batch_is_refused_and_the_client_can_still_send(
    client: TestClient,
    key_headers: dict[str, str],
    content: bytes | None,
    content_type: str,
    status: int,
    code: str,
) -> None:
    body = oversized_body() if content is None else content
    response = client.post(BATCH, content=body, headers={**key_headers, "Content-Type": content_type})
    assert_error(response, status, code)
    assert UserEvent.objects.count() == 0 and FailedEvent.objects.count() == 0
    good = post(client, key_headers, {"events": [event()]})
    assert good.status_code == 200 and good.json()["stored"] == 1
