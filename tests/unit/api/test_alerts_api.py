"""The alerts API over HTTP: analysts and admins list alerts; only admins acknowledge and resolve;
404 for an unknown alert, 409 for a move the state machine does not allow; every change audit-logged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.metrics.alerting import alerts_evaluate
from analytics.models import Alert, AuditLog
from analytics.security.tokens import token_issue
from tests.unit.metrics.alert_rows import metric

NOW = datetime.fromisoformat("2026-03-20T12:00:00+00:00")
URL = "/api/analytics/alerts"


def bearer(role: str, sub: str | None = None) -> dict[str, str]:
    token = token_issue(role=role, sub=sub or f"t-{role}", host_id="h1" if role == "host" else None)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alerts(client: TestClient) -> Iterator[dict[str, int]]:
    """Three open alerts: two critical, one warning (evaluated at NOW; requests run at real time, as
    the tokens are verified against it)."""
    clock.freeze(NOW)
    metric("payment_failure_rate", "2026-03-19", 25.0)  # critical (yesterday: complete)
    metric("refund_rate", "2026-03-19", 7.0)  # warning (5 / 10)
    metric("chargeback_rate", "2026-03-19", 2.0)  # critical (0.5 / 1)
    alerts_evaluate()
    clock.freeze(None)
    yield dict(Alert.objects.values_list("metric_name", "id"))


def test_analysts_and_admins_list_alerts_newest_first(client: TestClient, alerts: dict[str, int]) -> None:
    for role in ("analyst", "admin"):
        response = client.get(URL, headers=bearer(role))
        assert response.status_code == 200
        body = response.json()
        assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
        assert {a["metric_name"] for a in body["results"]} == set(alerts)
    first = body["results"][0]
    assert first["state"] == "open" and first["notifications"] == []
    assert {"severity", "value", "threshold", "period_start", "dedup_key", "title"} <= set(first)


def test_hosts_and_anonymous_callers_may_not_read_alerts(client: TestClient, alerts: dict[str, int]) -> None:
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=bearer("host")).status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"severity": "critical"}, {"payment_failure_rate", "chargeback_rate"}),
        ({"severity": "warning"}, {"refund_rate"}),
        ({"metric": "refund_rate"}, {"refund_rate"}),
        ({"state": "resolved"}, set()),
        ({"state": "open", "severity": "critical", "metric": "chargeback_rate"}, {"chargeback_rate"}),
    ],
)
def test_alerts_are_filtered_by_state_severity_and_metric(
    client: TestClient, alerts: dict[str, int], query: dict[str, str], expected: set[str]
) -> None:
    response = client.get(URL, params=query, headers=bearer("analyst"))
    assert response.status_code == 200
    assert {a["metric_name"] for a in response.json()["results"]} == expected
    assert response.json()["total"] == len(expected)


def test_alerts_are_paged(client: TestClient, alerts: dict[str, int]) -> None:
    pages = [
        client.get(URL, params={"limit": 2, "offset": offset}, headers=bearer("admin")).json() for offset in (0, 2)
    ]
    assert [len(p["results"]) for p in pages] == [2, 1]
    assert all(p["total"] == 3 for p in pages)
    seen = [a["id"] for p in pages for a in p["results"]]
    assert sorted(seen) == sorted(alerts.values())


@pytest.mark.parametrize("query", [{"state": "closed"}, {"severity": "high"}, {"limit": 0}, {"offset": -1}])
def test_bad_filters_are_422(client: TestClient, alerts: dict[str, int], query: dict[str, Any]) -> None:
    response = client.get(URL, params=query, headers=bearer("admin"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


def test_admin_acknowledges_then_resolves_an_alert_and_both_are_audited(
    client: TestClient, alerts: dict[str, int]
) -> None:
    alert_id = alerts["payment_failure_rate"]
    admin = bearer("admin", sub="ops-lead")

    acknowledged = client.post(f"{URL}/{alert_id}/acknowledge", headers=admin)
    assert acknowledged.status_code == 200
    body = acknowledged.json()
    assert (body["state"], body["acknowledged_by"]) == ("acknowledged", "ops-lead")
    assert body["acknowledged_at"] is not None and body["opened_at"] == "2026-03-20T12:00:00Z"

    resolved = client.post(f"{URL}/{alert_id}/resolve", headers=admin)
    assert resolved.status_code == 200
    assert (resolved.json()["state"], resolved.json()["resolved_by"]) == ("resolved", "ops-lead")

    audit = list(AuditLog.objects.order_by("id").values_list("actor", "actor_role", "action", "target_id"))
    assert audit == [
        ("ops-lead", "admin", "alert.acknowledge", str(alert_id)),
        ("ops-lead", "admin", "alert.resolve", str(alert_id)),
    ]


def test_an_open_alert_can_be_resolved_directly(client: TestClient, alerts: dict[str, int]) -> None:
    response = client.post(f"{URL}/{alerts['refund_rate']}/resolve", headers=bearer("admin"))
    assert response.status_code == 200 and response.json()["state"] == "resolved"


@pytest.mark.parametrize(
    ("steps", "action", "code"),
    [
        (["resolve"], "resolve", "alert_already_resolved"),
        (["resolve"], "acknowledge", "alert_already_resolved"),
        (["acknowledge"], "acknowledge", "alert_already_acknowledged"),
    ],
)
def test_invalid_transitions_are_409_and_change_nothing(
    client: TestClient, alerts: dict[str, int], steps: list[str], action: str, code: str
) -> None:
    alert_id = alerts["payment_failure_rate"]
    for step in steps:
        assert client.post(f"{URL}/{alert_id}/{step}", headers=bearer("admin")).status_code == 200
    before = Alert.objects.values().get(id=alert_id)
    audits = AuditLog.objects.count()

    response = client.post(f"{URL}/{alert_id}/{action}", headers=bearer("admin"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == code
    assert Alert.objects.values().get(id=alert_id) == before
    assert AuditLog.objects.count() == audits


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_an_unknown_alert_is_404(client: TestClient, alerts: dict[str, int], action: str) -> None:
    response = client.post(f"{URL}/999999/{action}", headers=bearer("admin"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "alert_not_found"


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_analysts_may_not_change_alerts(client: TestClient, alerts: dict[str, int], action: str) -> None:
    alert_id = alerts["payment_failure_rate"]
    response = client.post(f"{URL}/{alert_id}/{action}", headers=bearer("analyst"))
    assert response.status_code == 403
    assert Alert.objects.get(id=alert_id).state == "open"
    assert not AuditLog.objects.exists()


def test_a_change_lists_the_notification_it_owes(client: TestClient, alerts: dict[str, int], settings: Any) -> None:
    settings.ANALYTICS_ALERT_WEBHOOK_URL = "http://127.0.0.1:9/never-called-in-a-request"
    alert_id = alerts["refund_rate"]

    response = client.post(f"{URL}/{alert_id}/acknowledge", headers=bearer("admin"))

    [notification] = response.json()["notifications"]
    assert (notification["kind"], notification["channel"], notification["status"]) == (
        "acknowledged",
        "webhook",
        "pending",
    )
    assert notification["attempts"] == 0  # delivery belongs to a task, never to the request
