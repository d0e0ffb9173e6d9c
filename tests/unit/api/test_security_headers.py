"""Security headers on every kind of response: the API's JSON (public, per-user, errors), exports, the API
docs page, Django's admin pages, /metrics and static files (docs/api.md, "Security headers")."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.bi_support import bearer

TOKEN = "scrape-token-for-the-tests-0123456789abcdef"
DAY = {"start_date": "2026-03-01", "end_date": "2026-03-02"}


def _assert_common(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # plain HTTP


@pytest.fixture
def scraper(settings: Any) -> dict[str, str]:
    settings.METRICS_TOKEN = TOKEN
    return {"Authorization": f"Bearer {TOKEN}"}


def test_api_answers_carry_the_headers_and_are_never_stored_by_caches(client: TestClient) -> None:
    """Catches: API responses (public, per-user, errors, exports) without nosniff / framing / CSP headers, or
    personal data left in a browser or proxy cache."""
    responses = [
        client.get("/api/analytics/health"),
        client.get("/api/analytics/alerts", headers=bearer("admin")),
        client.post("/api/analytics/user-behavior", json={"user_id": "u1"}, headers=bearer("admin")),
        client.get("/api/analytics/overview"),  # 401
        client.get("/api/analytics/export/events", params=DAY, headers=bearer("admin")),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 200]
    for response in responses:
        _assert_common(response)
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["cache-control"] == "no-store", response.request.url


def test_metrics_carry_the_headers(client: TestClient, scraper: dict[str, str]) -> None:
    """Catches: a mount outside the FastAPI routes (Prometheus) left without the headers."""
    for response in (client.get("/metrics", headers=scraper), client.get("/metrics")):
        _assert_common(response)
        assert response.headers["cache-control"] == "no-store"


def _local_only(html: str) -> list[str]:
    """Every script / stylesheet / image reference of the page (all must be same-origin paths)."""
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_api_docs_load_nothing_from_elsewhere_and_run_under_the_page_policy(client: TestClient) -> None:
    """Catches: Swagger UI fetched from a CDN at run time, an inline script the CSP would block, or an
    asset the page names that the service does not serve."""
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    _assert_common(page)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "no-store" not in page.headers.get("cache-control", "")
    references = _local_only(page.text)
    assert references and all(ref.startswith("/static/") for ref in references), references
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "inline script"
    for ref in references:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 100, ref
        _assert_common(asset)
    assert "/api/openapi.json" in page.text
    assert client.get("/api/openapi.json").status_code == 200


def test_django_admin_pages_carry_the_page_policy_and_need_nothing_it_forbids(client: TestClient) -> None:
    """Catches: Django pages left without the CSP, or a policy that would break the admin (inline scripts or
    styles, assets from another origin)."""
    page = client.get("/admin/login/")
    assert page.status_code == 200
    _assert_common(page)
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert "no-store" in page.headers["cache-control"]
    assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", page.text), "inline script"
    assert " style=" not in page.text and "<style" not in page.text
    references = [ref for ref in _local_only(page.text) if not ref.startswith("#")]  # fragments: this page
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    for ref in (r for r in references if r.startswith("/static/")):
        assert client.get(ref).status_code == 200, ref


def test_strict_transport_security_only_over_tls(
    client_from: Callable[[str], TestClient], settings: Any, transactional_db: None
) -> None:
    """Catches: HSTS sent over plain HTTP (or never), and an X-Forwarded-Proto from anyone but a configured
    proxy believed."""
    from loopin_backend.asgi import application

    with TestClient(application, base_url="https://testserver") as tls:
        assert tls.get("/api/analytics/health").headers["strict-transport-security"] == "max-age=31536000"
        assert tls.get("/admin/login/").headers["strict-transport-security"] == "max-age=31536000"
    claimed = {"X-Forwarded-Proto": "https"}
    assert (
        "strict-transport-security"
        not in client_from("203.0.113.9").get("/api/analytics/health", headers=claimed).headers
    )
    settings.ANALYTICS_TRUSTED_PROXIES = ["192.0.2.10"]
    proxied = client_from("192.0.2.10").get("/api/analytics/health", headers=claimed)
    assert proxied.headers["strict-transport-security"] == "max-age=31536000"
    plain = client_from("192.0.2.10").get("/api/analytics/health", headers={"X-Forwarded-Proto": "http"})
    assert "strict-transport-security" not in plain.headers
