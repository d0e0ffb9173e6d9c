"""The service's own requests are measured in Prometheus by route template, not tracked as events."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.models import UserEvent

TOKEN = "scrape-token-for-the-tests-0123456789abcdef"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _scrape_token(settings: Any) -> None:
    """The tests read /metrics as the scraper does (tests/unit/api/test_metrics_access.py covers the gate)."""
    settings.METRICS_TOKEN = TOKEN


def test_api_requests_are_counted_by_route_template_and_never_tracked(client: TestClient) -> None:
    assert client.get("/api/analytics/health").status_code == 200
    exposition = client.get("/metrics/", headers=SCRAPER).text
    assert 'loopin_api_requests_total{method="GET",route="/api/analytics/health",status="200"}' in exposition
    assert UserEvent.objects.count() == 0


def test_ingested_events_are_counted_by_source_and_outcome(client: TestClient, key_headers: dict[str, str]) -> None:
    client.post(
        "/api/analytics/events/track",
        json={"event_name": "page_view", "properties": {"path": "/x"}},
        headers=key_headers,
    )
    exposition = client.get("/metrics/", headers=SCRAPER).text
    assert 'loopin_ingest_events_total{source="http",status="stored"}' in exposition
