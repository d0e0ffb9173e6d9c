"""Rate limits (docs/operations.md, "Rate limits"), driven by moving the clock, never by sleeping: a credential
or a network beyond its limit meets 429 with Retry-After and nobody else does; failed authentications from
one network end in 429 for it alone; the defaults leave room for 100 batch requests a second per key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.api import rate_limiting
from analytics.security.api_keys import api_key_create
from analytics.security.rate_limits import MemoryStore, Rate, gcra
from tests.unit.api.bi_support import bearer

API = "/api/analytics"
START = datetime.fromisoformat("2026-03-10T12:00:00+00:00")


@pytest.fixture
def now() -> Iterator[Callable[[float], None]]:
    clock.freeze(START)

    def advance(seconds: float) -> None:
        clock.freeze(clock.now() + timedelta(seconds=seconds))

    yield advance
    clock.freeze(None)


@pytest.fixture
def small_limits(monkeypatch: Any) -> None:
    monkeypatch.setitem(rate_limiting.LIMITS, "ingest", (Rate(1, 3), Rate(100, 8)))
    monkeypatch.setitem(rate_limiting.LIMITS, "read", (Rate(1, 3), Rate(100, 100)))
    monkeypatch.setattr(rate_limiting, "AUTH_FAILURES", Rate(1, 5))


def _track(client: TestClient, key: str) -> int:
    body = {"event_name": "page_view", "properties": {"path": "/"}}
    return client.post(f"{API}/events/track", json=body, headers={"X-API-Key": key}).status_code


def test_gcra_allows_the_burst_then_one_per_interval() -> None:
    store, rate = MemoryStore(), Rate(1, 3)
    assert [store.hit("k", rate, 100.0).allowed for _ in range(4)] == [True, True, True, False]
    refused = store.hit("k", rate, 100.0)
    assert refused.retry_after == pytest.approx(1.0)
    assert store.hit("k", rate, 101.0).allowed and not store.hit("k", rate, 101.0).allowed


def test_the_default_ingestion_limit_leaves_room_for_100_batches_a_second() -> None:
    per_key, per_network = rate_limiting.LIMITS["ingest"]
    assert per_key is not None
    for rate in (per_key, per_network):
        tat = None
        for n in range(300):  # three seconds at 100 requests a second
            verdict, tat = gcra(tat, 1000.0 + n / 100, rate)
            assert verdict.allowed, (rate, n)


def test_a_write_key_beyond_its_limit_meets_429_and_another_key_does_not(
    client: TestClient, small_limits: None, now: Callable[[float], None]
) -> None:
    noisy, quiet = api_key_create(name="noisy").key, api_key_create(name="quiet").key
    accepted = _track(client, noisy)
    assert 200 <= accepted < 300
    assert [_track(client, noisy) for _ in range(2)] == [accepted, accepted]  # the burst of three
    refused = client.post(f"{API}/events/track", json={"event_name": "page_view"}, headers={"X-API-Key": noisy})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited" and refused.headers["retry-after"] == "1"
    assert _track(client, quiet) == accepted  # the noisy key's limit is its own
    now(1.0)
    assert _track(client, noisy) == accepted  # and it refills


def test_a_network_beyond_its_limit_meets_429_and_another_network_does_not(
    client_from: Callable[[str], TestClient], small_limits: None, now: Callable[[float], None]
) -> None:
    noisy, other = client_from("203.0.113.7"), client_from("198.51.100.7")
    keys = [api_key_create(name=f"k{n}").key for n in range(9)]
    codes = [_track(noisy, key) for key in keys]  # a fresh key each time: only the network's limit applies
    assert 200 <= codes[0] < 300 and codes[:8] == [codes[0]] * 8 and codes[8] == 429
    assert _track(other, keys[0]) == codes[0]


def test_failed_authentications_from_one_network_end_in_429_there_alone(
    client_from: Callable[[str], TestClient], small_limits: None, now: Callable[[float], None]
) -> None:
    guesser, neighbour = client_from("203.0.113.9"), client_from("198.51.100.9")
    guesses = [{"Authorization": f"Bearer guess-{n}"} for n in range(5)]  # each guess a new credential
    assert [guesser.get(f"{API}/overview", headers=guess).status_code for guess in guesses] == [401] * 5
    blocked = guesser.get(f"{API}/overview", headers=bearer("analyst"))  # even a valid token, from there
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert neighbour.get(f"{API}/overview", headers=guesses[0]).status_code == 401
    assert neighbour.get(f"{API}/overview", headers=bearer("analyst")).status_code == 200
    now(2.0)
    assert guesser.get(f"{API}/overview", headers=bearer("analyst")).status_code == 200


def test_a_burst_of_failed_authentications_opens_one_security_alert(
    client_from: Callable[[str], TestClient], small_limits: None, now: Callable[[float], None]
) -> None:
    from analytics.models import Alert

    guesser = client_from("203.0.113.9")
    for n in range(8):  # five 401s, then refusals
        guesser.get(f"{API}/overview", headers={"Authorization": f"Bearer guess-{n}"})
    (alert,) = Alert.objects.filter(source="security")
    assert (alert.dedup_key, alert.state, alert.severity) == (
        "security:auth_failures:203.0.113.0/24",
        "open",
        "warning",
    )
    assert alert.dimensions == {"ip_prefix": "203.0.113.0/24"}
    assert "guessing keys" in alert.message


def test_429_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    for path, method in (("/api/analytics/events/track", "post"), ("/api/analytics/overview", "get")):
        response = schema["paths"][path][method]["responses"]["429"]
        assert "rate_limited" in response["description"] and "Retry-After" in response["headers"], path
