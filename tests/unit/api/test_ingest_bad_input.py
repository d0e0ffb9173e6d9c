"""Bad input: each case gets a clear 4xx in the one error shape (or a per-event rejection in a
batch), never a 5xx, and leaves nothing half-written."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from analytics.models import FailedEvent, UserEvent
from tests.assertions import assert_error
from tests.factories import event, nested, payment_event

TRACK = "/api/analytics/events/track"
BATCH = "/api/analytics/events/batch"
MB = 1024 * 1024


def without(key: str, raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != key}


# (id, event, status on /track, code) — the same event inside a batch is rejected with the same code.
EVENT_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("missing_event_name", without("event_name", event()), 422, "missing_field"),
    ("empty_event_name", event(event_name=""), 422, "missing_field"),
    ("blank_event_name", event(event_name="   "), 422, "missing_field"),
    ("event_name_201_chars", event(event_name="a" * 201), 422, "invalid_field"),
    ("event_name_not_a_string", event(event_name=42), 422, "invalid_field"),
    ("event_name_with_markup", event(event_name="<b>clicked</b>"), 422, "invalid_event_name"),
    ("event_name_with_nul", event(event_name="click\x00ed"), 422, "invalid_event_name"),
    ("properties_a_list", event(properties=["a", "b"]), 422, "invalid_field"),
    ("properties_a_string", event(properties="button=join"), 422, "invalid_field"),
    ("metadata_a_number", without("properties", event(metadata=5)), 422, "invalid_field"),
    ("context_a_string", event(context="web"), 422, "invalid_field"),
    ("nesting_11_levels", event(properties=nested(11)), 422, "nesting_too_deep"),
    ("nul_in_value", event(properties={"note": "a\x00b"}), 422, "invalid_characters"),
    ("nul_in_key", event(properties={"no\x00te": "a"}), 422, "invalid_characters"),
    ("nul_in_user_id", event(user_id="u\x001"), 422, "invalid_characters"),
    ("nul_in_session_id", event(session_id="s\x001"), 422, "invalid_characters"),
    ("string_over_64k", event(properties={"text": "x" * (64 * 1024 + 1)}), 422, "string_too_long"),
    ("string_of_1_mb", event(properties={"text": "x" * MB}), 413, "event_too_large"),
    ("amount_a_string", payment_event(amount="499"), 422, "invalid_property"),
    ("amount_negative", payment_event(amount=-1), 422, "invalid_property"),
    ("amount_a_boolean", payment_event(amount=True), 422, "invalid_property"),
    ("amount_missing", payment_event(amount=None), 422, "invalid_property"),
    ("invalid_uuid", event(uuid="not-a-uuid"), 422, "invalid_uuid"),
    ("uuid_a_number", event(uuid=12345), 422, "invalid_uuid"),
    ("unknown_top_level_field", event(propertes={"typo": 1}), 422, "unknown_field"),
    ("metadata_and_properties", event(metadata={"a": 1}), 422, "metadata_conflict"),
    ("user_id_an_object", event(user_id={"id": 1}), 422, "invalid_field"),
    ("user_id_a_boolean", event(user_id=False), 422, "invalid_field"),
    ("user_id_too_long", event(user_id="u" * 129), 422, "invalid_field"),
    ("unknown_event_type", event(event_type="purchase"), 422, "invalid_field"),
    ("timestamp_not_iso", event(timestamp="10/03/2026 12:00"), 422, "invalid_timestamp"),
    ("timestamp_an_epoch_number", event(timestamp=1773144000), 422, "invalid_field"),
    ("timestamp_year_0001", event(timestamp="0001-01-01T00:00:00Z"), 422, "timestamp_out_of_range"),
    ("timestamp_year_9999", event(timestamp="9999-12-31T23:59:59+00:00"), 422, "timestamp_out_of_range"),
    ("timestamp_before_2000", event(timestamp="1999-12-31T23:59:59Z"), 422, "timestamp_out_of_range"),
    ("sent_at_not_iso", event(sent_at="now"), 422, "invalid_timestamp"),
]
# An amount that is not a number can also be NaN or Infinity in the tracker path (see
# tests/unit/collection/test_pipeline.py); in JSON those are literals that make the body invalid.


def _ids(cases: list[Any]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(("case", "raw", "status", "code"), EVENT_CASES, ids=_ids(EVENT_CASES))
def test_bad_event_on_track_is_refused_and_nothing_stored(
    client: TestClient, key_headers: dict[str, str], case: str, raw: dict[str, Any], status: int, code: str
) -> None:
    response = client.post(TRACK, json=raw, headers=key_headers)
    if status == 413:
        assert_error(response, 413, "event_too_large")  # the body limit refuses it before parsing
    else:
        error = assert_error(response, status, code)
        assert error["details"]["problems"], error
    assert UserEvent.objects.count() == 0


@pytest.mark.parametrize(("case", "raw", "status", "code"), EVENT_CASES, ids=_ids(EVENT_CASES))
def test_bad_event_in_a_batch_is_rejected_alone(
    client: TestClient, key_headers: dict[str, str], case: str, raw: dict[str, Any], status: int, code: str
) -> None:
    good = event()
    response = client.post(BATCH, json={"events": [good, raw]}, headers=key_headers)
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert (body["stored"], body["rejected"]) == (1, 1)
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["reason"] == code
    assert list(UserEvent.objects.values_list("event_name", flat=True)) == [good["event_name"]]
    assert list(FailedEvent.objects.values_list("reason", flat=True)) == [code]


@pytest.mark.parametrize("items", [[None, None], [None, "text", 7, []]], ids=["nulls", "not_objects"])
def test_batch_items_that_are_not_objects_are_rejected_and_quarantined_as_sent(
    client: TestClient, key_headers: dict[str, str], items: list[Any]
) -> None:
    """Found by the fuzzing tier: a batch of JSON nulls answered 500 (a null payload is SQL NULL, which the
    quarantine's column refuses). Each item is rejected alone and kept in quarantine as sent."""
    response = client.post(
        BATCH, content=orjson.dumps(items), headers={**key_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["rejected"] == len(items)
    assert list(FailedEvent.objects.order_by("id").values_list("payload", flat=True)) == items


# (id, raw body, content type, status, code) — refused as a whole on either endpoint.
BODY_CASES: list[tuple[str, bytes, str, int, str]] = [
    ("malformed_json", b'{"event_name": "x",', "application/json", 400, "invalid_json"),
    ("trailing_garbage", b'{"event_name": "x"} extra', "application/json", 400, "invalid_json"),
    ("empty_body", b"", "application/json", 400, "invalid_json"),
    (
        "nan_literal",
        b'{"event_name": "payment_completed", "properties": {"amount": NaN}}',
        "application/json",
        400,
        "invalid_json",
    ),
    (
        "infinity_literal",
        b'{"event_name": "x", "properties": {"amount": Infinity}}',
        "application/json",
        400,
        "invalid_json",
    ),
    (
        "negative_infinity_literal",
        b'{"event_name": "x", "properties": {"amount": -Infinity}}',
        "application/json",
        400,
        "invalid_json",
    ),
    (
        "number_overflowing_to_infinity",
        b'{"event_name": "x", "properties": {"amount": 1e400}}',
        "application/json",
        400,
        "invalid_json",
    ),
    (
        "lone_high_surrogate_escape",
        b'{"event_name": "x", "properties": {"s": "\\ud800"}}',
        "application/json",
        400,
        "invalid_json",
    ),
    (
        "lone_low_surrogate_escape",
        b'{"event_name": "x", "properties": {"s": "\\udc00"}}',
        "application/json",
        400,
        "invalid_json",
    ),
    (
        "surrogate_in_key_escape",
        b'{"event_name": "x", "properties": {"\\ud800": 1}}',
        "application/json",
        400,
        "invalid_json",
    ),
    (
        "surrogate_as_utf8_bytes",
        b'{"event_name": "x", "properties": {"s": "\xed\xa0\x80"}}',
        "application/json",
        400,
        "invalid_json",
    ),
    ("invalid_utf8", b'{"event_name": "\xff\xfe"}', "application/json", 400, "invalid_json"),
    ("text_plain", orjson.dumps(event()), "text/plain", 415, "unsupported_media_type"),
    ("no_content_type", orjson.dumps(event()), "", 415, "unsupported_media_type"),
    ("form_encoded", b"event_name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize(("case", "content", "content_type", "status", "code"), BODY_CASES, ids=_ids(BODY_CASES))
@pytest.mark.parametrize("url", [TRACK, BATCH], ids=["track", "batch"])
def test_bad_body_is_refused_whole_with_a_4xx(
    client: TestClient,
    key_headers: dict[str, str],
    url: str,
    case: str,
    content: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    headers = {**key_headers, "Content-Type": content_type} if content_type else dict(key_headers)
    response = client.post(url, content=content, headers=headers)
    assert_error(response, status, code)
    assert UserEvent.objects.count() == 0 and FailedEvent.objects.count() == 0


def test_track_body_that_is_not_one_object_is_refused(client: TestClient, key_headers: dict[str, str]) -> None:
    assert_error(client.post(TRACK, json=[event()], headers=key_headers), 422, "invalid_event")
    assert_error(client.post(TRACK, json="event", headers=key_headers), 422, "invalid_event")
    assert UserEvent.objects.count() == 0


def test_track_body_over_one_mb_is_413_event_too_large_as_documented_and_the_client_can_still_send(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    raw = event(properties={"blob": "x" * MB})
    error = assert_error(client.post(TRACK, json=raw, headers=key_headers), 413, "event_too_large")
    assert error["details"] == {"limit_bytes": MB}
    assert client.post(TRACK, json=event(), headers=key_headers).json()["status"] == "stored"
    assert UserEvent.objects.count() == 1


def test_json_media_type_with_charset_and_suffix_is_accepted(client: TestClient, key_headers: dict[str, str]) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.loopin+json"):
        response = client.post(
            TRACK, content=orjson.dumps(event()), headers={**key_headers, "Content-Type": content_type}
        )
        assert response.json()["status"] == "stored"
    assert UserEvent.objects.count() == 2
