"""`GET /api/analytics/forecasts/revenue` and `GET /api/analytics/hosts/{host_id}/forecast` over HTTP: the
stored forecasts with their backtest, "not enough data" before any model, bounded `days`, host scoping."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from analytics import clock
from analytics.intelligence.registry import model_train_and_promote
from analytics.metrics.periods import business_today
from analytics.models import RevenueForecast
from analytics.security.tokens import token_issue
from tests.unit.intelligence.predictions.test_registry import FakeSpec
from tests.unit.metrics.support import created, ingest


def _get(client: TestClient, path: str, role: str = "analyst", host: str | None = None) -> tuple[int, dict]:
    token = token_issue(role=role, sub="t", host_id=host)
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


def _stored(scope: str, days: int = 28) -> None:
    today = business_today()
    RevenueForecast.objects.bulk_create(
        RevenueForecast(
            scope=scope,
            day=today + timedelta(days=i),
            expected=1000.0 + i,
            low=800.0,
            high=1300.0 + i,
            method="ETS(A,Ad,A)",
            computed_at=clock.now(),
            model_version=1,
        )
        for i in range(days)
    )


def test_before_a_model_exists_the_answer_is_not_enough_data(client: TestClient) -> None:
    status, body = _get(client, "/api/analytics/forecasts/revenue")
    assert status == 200 and body["status"] == "not_enough_data" and body["forecast"] == []
    assert "63 days of platform revenue history" in body["message"]


def test_the_platform_forecast_returns_the_days_asked_with_their_intervals(client: TestClient) -> None:
    model_train_and_promote(FakeSpec(score=0.3, name="revenue_forecast"))
    _stored("")
    status, body = _get(client, "/api/analytics/forecasts/revenue?days=7")
    assert status == 200 and body["status"] == "ok" and body["scope"] == "platform"
    assert [day["expected"] for day in body["forecast"]] == [1000.0 + i for i in range(7)]
    assert body["forecast"][0]["date"] == business_today().isoformat()
    assert body["total_expected"] == sum(1000.0 + i for i in range(7)) and body["interval_level"] == 0.8
    for days in (0, 29, -3):
        status, body = _get(client, f"/api/analytics/forecasts/revenue?days={days}")
        assert (status, body["error"]["code"]) == (422, "invalid_days"), days
    assert _get(client, "/api/analytics/forecasts/revenue?days=lots")[0] == 422
    assert _get(client, "/api/analytics/forecasts/revenue", role="host", host="h1")[0] == 403


def test_a_host_reads_its_own_forecast_and_never_another_hosts(client: TestClient) -> None:
    ingest(created("L1", "2026-03-01T10:00", host="h1"), created("L2", "2026-03-01T10:00", host="h2"))
    model_train_and_promote(FakeSpec(score=0.3, name="revenue_forecast"))
    _stored("h1")
    status, body = _get(client, "/api/analytics/hosts/h1/forecast?days=28", role="host", host="h1")
    assert status == 200 and body["status"] == "ok" and body["host_id"] == "h1" and len(body["forecast"]) == 28
    assert _get(client, "/api/analytics/hosts/h2/forecast", role="host", host="h1")[0] == 404
    status, body = _get(client, "/api/analytics/hosts/h2/forecast", role="admin")
    assert status == 200 and body["status"] == "no_revenue"
    assert _get(client, "/api/analytics/hosts/nobody/forecast", role="analyst")[0] == 404
