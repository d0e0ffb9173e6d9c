"""Requests under /api/ that no route takes are answered by the API in its error shape, never by Django:
405 with `Allow` for a wrong method, 404 `not_found` for an unknown path, and HEAD wherever GET is allowed
(docs/api.md, "Unrouted requests"). With DEBUG on and off: Django's debug 404 page names every URL
pattern of the project."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.unit.api.bi_support import bearer


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/api/analytics/health", "GET, HEAD"),
        ("DELETE", "/api/analytics/alerts", "GET, HEAD"),
        ("GET", "/api/analytics/events/track", "POST"),
        ("PUT", "/api/analytics/alerts/7/resolve", "POST"),
        ("PATCH", "/api/analytics/metrics/daily_active_users", "GET, HEAD"),
        ("POST", "/api/docs", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_405_with_allow(client: TestClient, debug: bool, method: str, path: str, allow: str) -> None:
    """Catches: a wrong method falling through to Django's HTML 404 (or the debug page) instead of 405."""
    response = client.request(method, path, headers=bearer("admin"))
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    "path",
    [
        "/api/analytics/nope",
        "/api/analytics/",
        "/api/analytics",
        "/api/analytics/health/",
        "/api/analytics/alerts/7",
        "/api/analytics/metrics/",
        "/api/elsewhere",
        "/api/",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
def test_an_unknown_path_is_the_json_404(client: TestClient, debug: bool, method: str, path: str) -> None:
    """Catches: unknown API paths answered by Django (an HTML page; with DEBUG on, the project's URL list)."""
    response = client.request(method, path, headers=bearer("admin"))
    if method == "HEAD":
        assert response.status_code == 404 and response.content == b""
        assert response.headers["content-type"] == "application/json"
        return
    assert_error(response, 404, "not_found")
    assert "html" not in response.headers["content-type"]


def test_head_is_answered_wherever_get_is(client: TestClient, debug: bool) -> None:
    """Catches: HEAD /api/analytics/health answering 404 (load balancers probe with HEAD)."""
    for path, headers in (
        ("/api/analytics/health", {}),
        ("/api/analytics/alerts", bearer("admin")),
        ("/api/docs", {}),
        ("/api/openapi.json", {}),
    ):
        got = client.get(path, headers=headers)
        head = client.head(path, headers=headers)
        assert head.status_code == got.status_code == 200, (path, head.status_code)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
    assert_error(client.get("/api/analytics/alerts"), 401, "missing_token")
    assert client.head("/api/analytics/alerts").status_code == 401  # HEAD keeps GET's access rules


def test_django_still_answers_outside_the_api(client: TestClient) -> None:
    """Catches: a guard so broad that the admin (or Django's own 404 for its paths) stops working."""
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/apiary").status_code == 404  # not under /api/: Django's
