"""Every route declares its access, and what it declares is the role table (docs/design.md, "Access and scoping").

The test walks the published OpenAPI schema, so a new route that is missing from ACCESS (or from
REQUESTS, its valid request) fails here until its access is declared and checked.

The check is strict both ways: a caller the table allows must get a 2xx for a valid request (a 422,
409 or 5xx is a failure, not "let in"), and every other caller must get 401 (no or the wrong kind of
credential) or 403 (a role the route does not allow). The `world` fixture makes every happy path
possible: users with enough behaviour to cluster, an open alert, a quarantined event, a host's
listing. A host reaching for another host's resource gets 404 (checked separately).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.intelligence.behaviour.service import behavior_profiles_refresh
from analytics.intelligence.insights.drafts import InsightDraft
from analytics.intelligence.insights.store import insights_store
from analytics.metrics.alerting import alerts_evaluate
from analytics.models import AIInsight, Alert, FailedEvent
from tests.factories import event
from tests.unit.api.bi_support import bearer
from tests.unit.intelligence.behaviour.support import AS_OF, listings, twelve_browsers
from tests.unit.metrics.alert_rows import metric
from tests.unit.metrics.support import created, ingest

API = "/api/analytics"
ROLES = ("admin", "analyst", "host")
HOST = "h1"  # the host token's host_id; the world's listing L-host belongs to it
OTHER_HOST = "h2"

# (method, path) → who may call it: "public", "write_key" or the roles allowed.
ACCESS: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/api/analytics/health"): "public",
    ("GET", "/api/analytics/health/detailed"): frozenset({"admin"}),
    ("GET", "/api/analytics/debug/info"): frozenset({"admin"}),
    ("GET", "/api/analytics/audit"): frozenset({"admin"}),
    ("POST", "/api/analytics/events/track"): "write_key",
    ("POST", "/api/analytics/events/batch"): "write_key",
    ("GET", "/api/analytics/events/failed"): frozenset({"admin"}),
    ("POST", "/api/analytics/events/failed/replay"): frozenset({"admin"}),
    ("GET", "/api/analytics/alerts"): frozenset({"admin", "analyst"}),
    ("POST", "/api/analytics/alerts/{alert_id}/acknowledge"): frozenset({"admin"}),
    ("POST", "/api/analytics/alerts/{alert_id}/resolve"): frozenset({"admin"}),
    ("GET", "/api/analytics/overview"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/metrics"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/metrics/{metric_name}"): frozenset({"admin", "analyst"}),
    ("POST", "/api/analytics/metrics/calculate"): frozenset({"admin"}),
    ("GET", "/api/analytics/trends"): frozenset({"admin", "analyst"}),
    ("POST", "/api/analytics/funnels"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/retention"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/lifecycle"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/stickiness"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/sessions"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/hosts/{host_id}/overview"): frozenset({"admin", "analyst", "host"}),
    ("GET", "/api/analytics/export/events"): frozenset({"admin"}),
    ("POST", "/api/analytics/user-behavior"): frozenset({"admin"}),
    ("POST", "/api/analytics/clustering"): frozenset({"admin"}),
    ("GET", "/api/analytics/personas"): frozenset({"admin", "analyst"}),
    ("POST", "/api/analytics/sentiment"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/models"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/listings/{listing_id}/forecast"): frozenset({"admin", "analyst", "host"}),
    ("GET", "/api/analytics/forecasts/revenue"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/anomalies"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/hosts/{host_id}/forecast"): frozenset({"admin", "analyst", "host"}),
    ("POST", "/api/analytics/privacy/users/{user_id}/opt-out"): frozenset({"admin"}),
    ("POST", "/api/analytics/privacy/users/{user_id}/opt-in"): frozenset({"admin"}),
    ("GET", "/api/analytics/privacy/users/{user_id}/export"): frozenset({"admin"}),
    ("DELETE", "/api/analytics/privacy/users/{user_id}"): frozenset({"admin"}),
    ("GET", "/api/analytics/users/{user_id}/recommendations"): frozenset({"admin"}),
    ("POST", "/api/analytics/insights"): frozenset({"admin", "analyst"}),
    ("GET", "/api/analytics/insights"): frozenset({"admin", "analyst"}),
    ("POST", "/api/analytics/insights/generate"): frozenset({"admin"}),
    ("PATCH", "/api/analytics/insights/{insight_id}"): frozenset({"admin"}),
    ("GET", "/api/analytics/hosts/{host_id}/insights"): frozenset({"admin", "analyst", "host"}),
    ("GET", "/api/analytics/listings/{listing_id}/insights"): frozenset({"admin", "analyst", "host"}),
}


@dataclass(frozen=True)
class Request:
    """A valid request to a route: its query, its JSON body (POST, PATCH) and its path parameters, where
    `{alert}` names the world's open alert and `{insight}` its pending insight."""

    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    path: dict[str, str] = field(default_factory=dict)


# The valid request of each route, for the world below (business day 2026-03-20).
REQUESTS: dict[tuple[str, str], Request] = {
    ("GET", "/api/analytics/health"): Request(),
    ("GET", "/api/analytics/health/detailed"): Request(),
    ("GET", "/api/analytics/debug/info"): Request(),
    ("GET", "/api/analytics/audit"): Request(params={"action": "alert."}),
    ("POST", "/api/analytics/events/track"): Request(json=event()),
    ("POST", "/api/analytics/events/batch"): Request(json={"events": [event(), event()]}),
    ("GET", "/api/analytics/events/failed"): Request(params={"reason": "missing_field"}),
    ("POST", "/api/analytics/events/failed/replay"): Request(json={"reason": "missing_field"}),
    ("GET", "/api/analytics/alerts"): Request(params={"state": "open"}),
    ("POST", "/api/analytics/alerts/{alert_id}/acknowledge"): Request(path={"alert_id": "{alert}"}),
    ("POST", "/api/analytics/alerts/{alert_id}/resolve"): Request(path={"alert_id": "{alert}"}),
    ("GET", "/api/analytics/overview"): Request(),
    ("GET", "/api/analytics/metrics"): Request(),
    ("GET", "/api/analytics/metrics/{metric_name}"): Request(path={"metric_name": "daily_active_users"}),
    ("POST", "/api/analytics/metrics/calculate"): Request(json={"date": "2026-03-19"}),
    ("GET", "/api/analytics/trends"): Request(params={"event": "page_view"}),
    ("POST", "/api/analytics/funnels"): Request(json={"date_from": "2026-03-01", "date_to": "2026-03-20"}),
    ("GET", "/api/analytics/retention"): Request(params={"date_from": "2026-03-01", "date_to": "2026-03-20"}),
    ("GET", "/api/analytics/lifecycle"): Request(),
    ("GET", "/api/analytics/stickiness"): Request(),
    ("GET", "/api/analytics/sessions"): Request(),
    ("GET", "/api/analytics/hosts/{host_id}/overview"): Request(path={"host_id": HOST}),
    ("GET", "/api/analytics/export/events"): Request(params={"start_date": "2026-03-08", "end_date": "2026-03-20"}),
    ("POST", "/api/analytics/user-behavior"): Request(json={"user_id": "p1", "days": 30}),
    ("POST", "/api/analytics/clustering"): Request(json={"n_clusters": 2}),
    ("GET", "/api/analytics/personas"): Request(),
    ("POST", "/api/analytics/sentiment"): Request(json={"text": "The rooftop concert was wonderful."}),
    ("GET", "/api/analytics/models"): Request(),
    ("GET", "/api/analytics/listings/{listing_id}/forecast"): Request(path={"listing_id": "L-host"}),
    ("GET", "/api/analytics/forecasts/revenue"): Request(params={"days": 7}),
    ("GET", "/api/analytics/anomalies"): Request(params={"days": 30}),
    ("GET", "/api/analytics/hosts/{host_id}/forecast"): Request(path={"host_id": HOST}, params={"days": 7}),
    ("POST", "/api/analytics/privacy/users/{user_id}/opt-out"): Request(path={"user_id": "p1"}),
    ("POST", "/api/analytics/privacy/users/{user_id}/opt-in"): Request(path={"user_id": "p1"}),
    ("GET", "/api/analytics/privacy/users/{user_id}/export"): Request(path={"user_id": "p1"}),
    ("DELETE", "/api/analytics/privacy/users/{user_id}"): Request(path={"user_id": "p-erased"}),
    ("GET", "/api/analytics/users/{user_id}/recommendations"): Request(path={"user_id": "p1"}, params={"limit": 5}),
    ("POST", "/api/analytics/insights"): Request(json={"insight_types": ["demand_supply"], "priority": "high"}),
    ("GET", "/api/analytics/insights"): Request(params={"priority": "low"}),
    ("POST", "/api/analytics/insights/generate"): Request(json={"insight_types": ["anomaly"]}),
    ("PATCH", "/api/analytics/insights/{insight_id}"): Request(
        json={"status": "validated"}, path={"insight_id": "{insight}"}
    ),
    ("GET", "/api/analytics/hosts/{host_id}/insights"): Request(path={"host_id": HOST}),
    ("GET", "/api/analytics/listings/{listing_id}/insights"): Request(path={"listing_id": "L-host"}),
}


INSIGHT = InsightDraft("demand_supply", "k", "Comedy in Pune", "…", 0.9, "high", ["Invite hosts"], "platform", {})


def _local(at: Any) -> str:
    return at.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def world(client: TestClient, key_headers: dict[str, str]) -> Iterator[dict[str, str]]:
    """A platform on which every route has something to answer, with the data's clock frozen at AS_OF
    (tokens are issued at the real time, `bi_support.bearer`): twelve users with a week of browsing
    each and their behaviour profiles (enough to cluster), a listing of host h1 starting in five days
    and one of h2, an open alert, a pending insight and a quarantined event. Yields the values path
    parameters refer to."""
    clock.freeze(AS_OF)
    listings()
    events = twelve_browsers()
    soon = _local(AS_OF + timedelta(days=5))
    events += [
        created("L-host", "2026-03-15T10:00", host=HOST, starts=soon, capacity=40),
        created("L-other", "2026-03-15T10:00", host=OTHER_HOST, starts=soon),
    ]
    ingest(*events)
    behavior_profiles_refresh(user_ids=[f"p{u}" for u in range(12)])  # as the 6-hourly task does
    metric("payment_failure_rate", "2026-03-19", 25.0)  # past its critical threshold: an alert opens
    assert alerts_evaluate().opened == 1
    refused = client.post(f"{API}/events/batch", json={"events": [event(event_name=None)]}, headers=key_headers)
    assert refused.status_code == 200 and FailedEvent.objects.filter(reason="missing_field").count() == 1
    insights_store(generated_types=[], drafts=[INSIGHT], narratives={}, now=clock.now())
    yield {"alert": str(Alert.objects.get(state="open").id), "insight": str(AIInsight.objects.get().id)}
    clock.freeze(None)


def _operations(client: TestClient) -> list[tuple[str, str]]:
    schema = client.get("/api/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def _call(
    client: TestClient, method: str, path: str, headers: dict[str, str], world: dict[str, str], **path_params: str
) -> Any:
    request = REQUESTS[(method, path)]
    values = {name: value.format(**world) for name, value in request.path.items()} | path_params
    concrete = re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)
    kwargs: dict[str, Any] = {"headers": headers, "params": request.params}
    if method in ("POST", "PATCH") and request.json is not None:
        kwargs["json"] = request.json
    return client.request(method, concrete, **kwargs)


def _role_headers(role: str) -> dict[str, str]:
    return bearer(role, host_id=HOST if role == "host" else None)


def test_every_published_route_is_in_the_role_table_with_a_valid_request(client: TestClient) -> None:
    """Catches: a new route published without a declared access (or without a request to check it with)."""
    assert set(_operations(client)) == set(ACCESS) == set(REQUESTS)


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_route_answers_2xx_to_the_callers_it_allows_and_401_or_403_to_the_others(
    client: TestClient, write_key: str, world: dict[str, str], method: str, path: str
) -> None:
    """Catches: a route that lets in a caller the role table does not allow (anything but 401/403), and a
    route that does not really serve a caller it allows (a 422, 409 or 5xx is not "allowed")."""
    access = ACCESS[(method, path)]

    def status(headers: dict[str, str]) -> tuple[int, str]:
        response = _call(client, method, path, headers, world)
        return response.status_code, response.text[:300]

    anonymous = status({})
    if access == "public":
        assert 200 <= anonymous[0] < 300, anonymous
        return
    assert anonymous[0] == 401, anonymous
    if access == "write_key":
        assert status(_role_headers("admin"))[0] == 401
        allowed = status({"X-API-Key": write_key})
        assert 200 <= allowed[0] < 300, allowed
        return
    assert status({"X-API-Key": write_key})[0] == 401
    assert status({"Authorization": f"Bearer {write_key}"})[0] == 401
    assert isinstance(access, frozenset)
    for role in ROLES:
        answer = status(_role_headers(role))
        if role in access:
            assert 200 <= answer[0] < 300, (role, answer)
        else:
            assert answer[0] == 403, (role, answer)


HOST_SCOPED = sorted(
    (method, path) for (method, path), access in ACCESS.items() if isinstance(access, frozenset) and "host" in access
)
FOREIGN = {"host_id": OTHER_HOST, "listing_id": "L-other"}


@pytest.mark.parametrize(("method", "path"), HOST_SCOPED)
def test_a_host_gets_404_for_another_hosts_resource(
    client: TestClient, world: dict[str, str], method: str, path: str
) -> None:
    """Catches: a host-scoped route serving a host another host's data (the role check alone lets every
    host token in; the scoping must hide the rest), while an analyst still reads it."""
    param = next(name for name in FOREIGN if "{" + name + "}" in path)
    foreign = {param: FOREIGN[param]}
    assert _call(client, method, path, _role_headers("host"), world, **foreign).status_code == 404
    assert _call(client, method, path, _role_headers("analyst"), world, **foreign).status_code == 200
