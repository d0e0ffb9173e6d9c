"""Contract slips found from outside: huge integers, NUL inside a timestamp, and the `days` error code
(docs/api.md, "Errors"; docs/tracking-plan.md, "Limits and generic checks")."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from analytics.models import UserEvent
from tests.assertions import assert_error
from tests.unit.api.bi_support import bearer

TRACK = "/api/analytics/events/track"
BATCH = "/api/analytics/events/batch"
JSON = {"Content-Type": "application/json"}


def _post(client: TestClient, path: str, raw: str, key_headers: dict[str, str]) -> Any:
    return client.post(path, content=raw.encode(), headers={**key_headers, **JSON})


@pytest.mark.parametrize("number", [str(2**64), str(2**64 + 1), "-" + str(2**63 + 1), "9" * 30, "1" + "0" * 5000])
def test_an_integer_beyond_64_bits_is_refused_naming_the_property(
    client: TestClient, key_headers: dict[str, str], number: str
) -> None:
    """Catches: an integer past the 64-bit range silently stored as an approximate float."""
    raw = '{"event_name": "widget_seen", "properties": {"seats": {"count": NUMBER}}}'.replace("NUMBER", number)
    error = assert_error(_post(client, TRACK, raw, key_headers), 422, "invalid_number")
    assert error["details"]["problems"][0]["field"] == "properties.seats.count"
    batch = _post(client, BATCH, '{"events": [' + raw + "]}", key_headers)
    assert batch.status_code == 200 and batch.json()["rejected"] == 1
    assert batch.json()["results"][0]["reason"] == "invalid_number"
    assert UserEvent.objects.count() == 0


def test_integers_inside_the_range_and_long_digit_strings_are_stored_exactly(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    """Catches: a fix that refuses valid 64-bit integers, floats with long mantissas or digits in strings."""
    raw = (
        f'{{"event_name": "widget_seen", "properties": {{"big": {2**64 - 1}, "low": {-(2**63)}, '
        '"ref": "123456789012345678901234", "pi": 3.14159265358979323846, "huge_float": 1e300}}'
    )
    response = _post(client, TRACK, raw, key_headers)
    assert response.status_code == 200, response.text
    stored = UserEvent.objects.get().properties
    assert stored["big"] == 2**64 - 1 and stored["low"] == -(2**63)
    assert stored["ref"] == "123456789012345678901234"
    assert stored["pi"] == pytest.approx(3.141592653589793) and stored["huge_float"] == 1e300


@pytest.mark.parametrize("field", ["timestamp", "sent_at"])
@pytest.mark.parametrize("value", ["2026-03-10\x0012:00:00", "2026-03-10T12:00:00\x00", "\x002026-03-10"])
def test_a_nul_inside_a_time_is_refused(
    client: TestClient, key_headers: dict[str, str], field: str, value: str
) -> None:
    """Catches: NUL accepted inside timestamp / sent_at (Python's ISO parser takes any separator character)."""
    body = {"event_name": "widget_seen", field: value}
    error = assert_error(_post(client, TRACK, orjson.dumps(body).decode(), key_headers), 422, "invalid_characters")
    assert error["details"]["problems"][0]["field"] == field
    assert UserEvent.objects.count() == 0


DAYS_ROUTES = [
    ("GET", "/api/analytics/overview", 365),
    ("GET", "/api/analytics/hosts/h1/overview", 365),
    ("GET", "/api/analytics/forecasts/revenue", 28),
    ("GET", "/api/analytics/hosts/h1/forecast", 28),
    ("GET", "/api/analytics/anomalies", 90),
    ("POST", "/api/analytics/user-behavior", 365),
]


@pytest.mark.parametrize(("method", "path", "maximum"), DAYS_ROUTES)
@pytest.mark.parametrize("offset", ["zero", "negative", "above", "huge"])
def test_days_out_of_range_is_invalid_days_on_every_route(
    client: TestClient, method: str, path: str, maximum: int, offset: str
) -> None:
    """Catches: `validation_failed` for an out-of-range `days` where docs/api.md promises `invalid_days`."""
    days = {"zero": 0, "negative": -3, "above": maximum + 1, "huge": 10**20}[offset]
    if method == "GET":
        response = client.get(path, params={"days": days}, headers=bearer("admin"))
    else:
        response = client.post(path, json={"user_id": "u1", "days": days}, headers=bearer("admin"))
    assert_error(response, 422, "invalid_days")


@pytest.mark.parametrize(("method", "path", "maximum"), DAYS_ROUTES)
def test_days_that_is_not_a_number_stays_validation_failed(
    client: TestClient, method: str, path: str, maximum: int
) -> None:
    """Catches: the days mapping swallowing malformed input (documented as `validation_failed`)."""
    if method == "GET":
        response = client.get(path, params={"days": "a week"}, headers=bearer("admin"))
    else:
        response = client.post(path, json={"user_id": "u1", "days": "a week"}, headers=bearer("admin"))
    assert_error(response, 422, "validation_failed")


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b'{"n": 1234567890123456789}', True),  # nineteen digits: could be past 64 bits
        (b'{"n": 123456789012345678}', False),  # eighteen
        (b'{"n": 123456789.0123456789}', False),  # a dot splits the run
        (b'{"a": "1234567890", "b": "123456789"}', False),  # runs in separate strings
        (b'{"n": ' + b"7" * 40 + b"}", True),
    ],
)
def test_the_long_digit_check_finds_runs_of_nineteen(body: bytes, found: bool) -> None:
    """Catches: the fast pre-check (translate + substring search) missing a 19-digit run or seeing one where a
    non-digit splits it — a miss would store a past-64-bit integer as an approximate float."""
    from analytics.api.body import _long_digits

    assert _long_digits(body) is found
