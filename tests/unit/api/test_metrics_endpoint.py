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


def _sample(exposition: str, line_start: str) -> float:
    """The value of the exposition's sample whose line starts with `line_start` (parsed, not matched loosely)."""
    (line,) = [line for line in exposition.splitlines() if line.startswith(line_start + " ")]
    return float(line.rsplit(" ", 1)[1])


def test_the_backlog_scheduled_task_runs_and_model_ages_are_exposed(client: TestClient) -> None:
    """Catches: /metrics blind to what only the database knows — processing falling behind, a scheduled task
    failing on a worker (its own process's counters never reach the web server's exposition)."""
    from datetime import timedelta

    from analytics import clock
    from analytics.operations.task_runs import task_run_finished, task_run_retried, task_run_started
    from analytics.tasks import deliver_alert_notifications

    deliver_alert_notifications.apply()
    name = "analytics.tasks.alerts.deliver_alert_notifications"
    task_run_started(name)
    task_run_finished(name, error="RuntimeError: smtp down")
    task_run_retried(name)
    exposition = client.get("/metrics", headers=SCRAPER).text
    assert _sample(exposition, f'loopin_task_runs_total{{outcome="success",task="{name}"}}') == 1.0
    assert _sample(exposition, f'loopin_task_runs_total{{outcome="failure",task="{name}"}}') == 1.0
    assert _sample(exposition, f'loopin_task_retries_total{{task="{name}"}}') == 1.0
    assert _sample(exposition, "loopin_processing_backlog_events") == 0.0

    UserEvent.objects.create(
        uuid="00000000-0000-4000-8000-000000000001",
        payload_hash="x",
        event_type="user_action",
        event_name="page_view",
        timestamp=clock.now(),
        received_at=clock.now() - timedelta(minutes=5),
        source="http",
    )
    exposition = client.get("/metrics", headers=SCRAPER).text
    assert _sample(exposition, "loopin_processing_backlog_events") == 1.0
    assert _sample(exposition, "loopin_processing_backlog_oldest_seconds") >= 300.0
