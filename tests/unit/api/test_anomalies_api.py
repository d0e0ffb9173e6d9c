"""`GET /api/analytics/anomalies` over HTTP: the stored anomalies of the last `days`, newest first, with
the breakdown that moved most; `days` bounded; hosts refused."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from analytics import clock
from analytics.metrics.periods import business_today
from analytics.models import DetectedAnomaly
from analytics.security.tokens import token_issue


def _get(client: TestClient, query: str = "", role: str = "analyst") -> tuple[int, dict]:
    token = token_issue(role=role, sub="t", host_id="h1" if role == "host" else None)
    response = client.get(f"/api/analytics/anomalies{query}", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


def test_anomalies_of_the_last_days_newest_first(client: TestClient) -> None:
    today = business_today()
    for offset, metric in ((3, "daily_active_users"), (10, "payment_failure_rate"), (40, "api_error_rate")):
        DetectedAnomaly.objects.create(
            metric_name=metric,
            day=today - timedelta(days=offset),
            expected_value=7.0,
            actual_value=31.0,
            z_score=12.5,
            direction="up",
            severity="critical",
            harmful=True,
            breakdown={"dimension": "city", "value": "Pune", "share_of_change": 0.8},
            detected_at=clock.now(),
        )
    status, body = _get(client)
    assert status == 200 and body["days"] == 30 and body["count"] == 2
    assert [a["metric_name"] for a in body["anomalies"]] == ["daily_active_users", "payment_failure_rate"]
    assert body["anomalies"][1]["breakdown"]["value"] == "Pune" and body["anomalies"][1]["z_score"] == 12.5
    assert _get(client, "?days=90")[1]["count"] == 3
    for days in ("0", "91", "x"):
        status, body = _get(client, f"?days={days}")
        assert status == 422, days
    assert _get(client, role="host")[0] == 403
