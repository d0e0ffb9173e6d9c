"""`GET /api/analytics/listings/{listing_id}/forecast` over HTTP: the stored forecast of an upcoming
listing, its host only for its own listings, and plain answers for a listing that took place, one that
was cancelled, one not yet forecast, and one that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.models import ListingAttendanceForecast
from analytics.security.tokens import token_issue
from tests.unit.metrics.support import created, ev, ingest

URL = "/api/analytics/listings/{}/forecast"


def _local(days: float) -> str:
    """An Asia/Kolkata wall-clock time `days` from now, as the test support writes times."""
    return (clock.now() + timedelta(days=days)).astimezone(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def listings(client: TestClient) -> Iterator[None]:
    """Times relative to the real clock: tokens are checked against it."""
    ingest(
        created("L-next", _local(-5), host="h1", starts=_local(5), capacity=40),
        created("L-other", _local(-5), host="h2", starts=_local(6)),
        created("L-past", _local(-20), host="h1", starts=_local(-10)),
        ev("event_checked_in", _local(-10), user="u1", listing_id="L-past", seats=2),
        ev("event_checked_in", _local(-10), user="u2", listing_id="L-past", seats=1),
        created("L-off", _local(-5), host="h1", starts=_local(8)),
        ev("event_cancelled", _local(-4), user="h1", listing_id="L-off"),
    )
    ListingAttendanceForecast.objects.create(
        listing_id="L-next",
        computed_at=clock.now(),
        lead_days=5.3,
        expected_attendance=17.4,
        low=12.0,
        high=23.0,
        confirmed_seats=15,
        pending_seats=3,
        expected_further_requests=4.2,
        baseline=11.7,
        model_version=3,
    )
    yield


def _get(client: TestClient, listing: str, role: str, host: str | None = None) -> tuple[int, dict]:
    token = token_issue(role=role, sub="t", host_id=host)
    response = client.get(URL.format(listing), headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


def test_the_listings_host_reads_its_forecast_with_an_80_percent_interval(client: TestClient, listings: None) -> None:
    status, body = _get(client, "L-next", "host", "h1")
    assert status == 200, body
    assert body["status"] == "ok" and body["capacity"] == 40
    assert body["forecast"]["expected_attendance"] == 17.4
    assert body["forecast"]["interval"] == {"level": 0.8, "low": 12.0, "high": 23.0}
    assert body["forecast"]["model_version"] == 3 and body["actual_attendance"] is None


def test_another_hosts_listing_and_an_unknown_one_are_404(client: TestClient, listings: None) -> None:
    for listing, host in (("L-other", "h1"), ("nope", "h1")):
        status, body = _get(client, listing, "host", host)
        assert (status, body["error"]["code"]) == (404, "listing_not_found")
    assert _get(client, "nope", "analyst")[0] == 404


def test_a_listing_that_took_place_answers_its_actual_attendance_and_no_forecast(
    client: TestClient, listings: None
) -> None:
    status, body = _get(client, "L-past", "analyst")
    assert status == 200
    assert (body["status"], body["actual_attendance"], body["forecast"]) == ("past", 3, None)
    assert "actual attendance" in body["message"]


def test_cancelled_and_not_yet_forecast_listings_say_so(client: TestClient, listings: None) -> None:
    assert _get(client, "L-off", "admin")[1]["status"] == "cancelled"
    status, body = _get(client, "L-other", "admin")  # no stored forecast and no attendance model yet
    assert status == 200 and body["status"] == "not_enough_data" and body["forecast"] is None
    assert "confirmed seats" in body["message"]


def test_the_route_refuses_a_missing_token_and_an_oversized_id(client: TestClient, listings: None) -> None:
    assert client.get(URL.format("L-next")).status_code == 401
    token = token_issue(role="admin", sub="t")
    assert client.get(URL.format("x" * 65), headers={"Authorization": f"Bearer {token}"}).status_code == 422


def test_a_listing_published_after_the_last_scoring_is_pending_never_forecast_on_the_request(
    client: TestClient, listings: None
) -> None:
    from analytics.intelligence.registry import model_train_and_promote
    from tests.unit.intelligence.predictions.test_registry import FakeSpec

    model_train_and_promote(FakeSpec(score=0.7, name="attendance"))
    status, body = _get(client, "L-other", "admin")
    assert status == 200 and body["status"] == "pending" and body["forecast"] is None
    assert not ListingAttendanceForecast.objects.filter(listing_id="L-other").exists()
