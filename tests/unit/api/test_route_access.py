"""Every route declares its access, and what it declares is the role table (docs/design.md, "Access and scoping").

The test walks the published OpenAPI schema, so a new route that is missing from ACCESS below
fails here until its access is declared and checked.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from analytics.security.tokens import token_issue

# (method, path) → who may call it: "public", "write_key" or the roles allowed.
ACCESS: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/api/analytics/health"): "public",
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
}
ROLES = ("admin", "analyst", "host")


def _operations(client: TestClient) -> list[tuple[str, str]]:
    schema = client.get("/api/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    kwargs: dict[str, object] = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.request(method, concrete, **kwargs).status_code  # type: ignore[arg-type]


def test_every_published_route_is_in_the_role_table(client: TestClient) -> None:
    assert set(_operations(client)) == set(ACCESS)


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_route_refuses_callers_the_role_table_does_not_allow(
    client: TestClient, write_key: str, method: str, path: str
) -> None:
    access = ACCESS[(method, path)]
    anonymous = _call(client, method, path, {})
    if access == "public":
        assert anonymous not in (401, 403)
        return
    assert anonymous == 401
    if access == "write_key":
        token = token_issue(role="admin", sub="admin")
        assert _call(client, method, path, {"Authorization": f"Bearer {token}"}) == 401
        assert _call(client, method, path, {"X-API-Key": write_key}) not in (401, 403)
        return
    assert _call(client, method, path, {"X-API-Key": write_key}) == 401
    for role in ROLES:
        token = token_issue(role=role, sub=f"t-{role}", host_id="h1" if role == "host" else None)
        status = _call(client, method, path, {"Authorization": f"Bearer {token}"})
        if role in access:  # type: ignore[operator]
            assert status not in (401, 403), (role, status)
        else:
            assert status in (403, 404), (role, status)
