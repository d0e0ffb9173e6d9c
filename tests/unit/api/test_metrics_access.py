"""`/metrics` is for the scraper only: a bearer scrape token or an allowed network, open only with DEBUG on
(docs/operations.md, "Scraping /metrics")."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.assertions import assert_error

TOKEN = "scrape-token-for-the-tests-0123456789abcdef"
PATHS = ("/metrics", "/metrics/")


@pytest.fixture
def production(settings: SettingsWrapper) -> SettingsWrapper:
    """DEBUG off, a scrape token and one allowed network."""
    settings.DEBUG = False
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = (ipaddress.ip_network("10.20.0.0/16"),)
    return settings


def _is_exposition(response: object) -> bool:
    return response.status_code == 200 and "loopin_api_requests_total" in response.text  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", PATHS)
def test_metrics_refuse_an_anonymous_outsider_in_production(
    client_from: Callable[[str], TestClient], production: SettingsWrapper, path: str
) -> None:
    """Catches: process and per-route metrics readable by anyone on the internet."""
    response = client_from("203.0.113.9").get(path)
    error = assert_error(response, 401, "missing_token")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "loopin" not in str(error)


@pytest.mark.parametrize("path", PATHS)
def test_metrics_refuse_a_wrong_token(
    client_from: Callable[[str], TestClient], production: SettingsWrapper, path: str
) -> None:
    """Catches: any bearer value (or a prefix of the token) opening the metrics."""
    outsider = client_from("203.0.113.9")
    for wrong in ("nope", TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        assert_error(outsider.get(path, headers={"Authorization": f"Bearer {wrong}"}), 401, "invalid_token")


@pytest.mark.parametrize("path", PATHS)
def test_metrics_answer_the_scrape_token(
    client_from: Callable[[str], TestClient], production: SettingsWrapper, path: str
) -> None:
    """Catches: a gate that locks out the scraper holding the configured token."""
    response = client_from("203.0.113.9").get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert _is_exposition(response), response.text[:300]


def test_metrics_answer_an_allowed_network_without_a_token(
    client_from: Callable[[str], TestClient], production: SettingsWrapper
) -> None:
    """Catches: METRICS_ALLOWED_NETWORKS ignored (or matched on the wrong address)."""
    assert _is_exposition(client_from("10.20.3.4").get("/metrics"))
    assert_error(client_from("10.21.3.4").get("/metrics"), 401, "missing_token")


def test_loopback_is_not_trusted_implicitly(
    client_from: Callable[[str], TestClient], production: SettingsWrapper
) -> None:
    """Catches: a proxy or sidecar on the same host (whose requests arrive from 127.0.0.1) exposing the metrics."""
    assert_error(client_from("127.0.0.1").get("/metrics"), 401, "missing_token")
    assert_error(client_from("::1").get("/metrics"), 401, "missing_token")


def test_forwarded_for_counts_only_from_a_trusted_proxy(
    client_from: Callable[[str], TestClient], production: SettingsWrapper
) -> None:
    """Catches: an outsider claiming an allowed address in X-Forwarded-For."""
    spoofed = {"X-Forwarded-For": "10.20.3.4"}
    assert_error(client_from("203.0.113.9").get("/metrics", headers=spoofed), 401, "missing_token")
    production.ANALYTICS_TRUSTED_PROXIES = ["192.0.2.10"]
    assert _is_exposition(client_from("192.0.2.10").get("/metrics", headers=spoofed))


def test_without_a_token_an_outside_address_is_forbidden(
    client_from: Callable[[str], TestClient], production: SettingsWrapper
) -> None:
    """Catches: a missing METRICS_TOKEN read as "no token needed"; with no token configured nothing but the
    allowed networks gets in, whatever bearer is sent."""
    production.METRICS_TOKEN = ""
    outsider = client_from("203.0.113.9")
    assert_error(outsider.get("/metrics"), 403, "metrics_forbidden")
    assert_error(outsider.get("/metrics", headers={"Authorization": "Bearer "}), 403, "metrics_forbidden")
    assert_error(outsider.get("/metrics", headers={"Authorization": "Bearer x"}), 403, "metrics_forbidden")


def test_metrics_are_open_with_debug_on(client_from: Callable[[str], TestClient], settings: SettingsWrapper) -> None:
    """Catches: a development server whose metrics need a token (documented as open with DEBUG on)."""
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ()
    assert _is_exposition(client_from("203.0.113.9").get("/metrics"))
