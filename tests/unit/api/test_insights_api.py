"""The insights API over HTTP: who may read, generate and move insights, the shapes, and every bad input —
unknown type or status 422, unknown id 404, a move outside the workflow 409, another host's page 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.intelligence.insights.drafts import InsightDraft
from analytics.intelligence.insights.store import insights_store
from analytics.models import AIInsight, AuditLog
from analytics.security.tokens import token_issue
from tests.unit.intelligence.insights.market import listing, local


def _headers(role: str, host_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_issue(role=role, sub=f'{role}-1', host_id=host_id)}"}


def _seed() -> dict[str, int]:
    drafts = [
        InsightDraft(
            "demand_supply",
            "d",
            "Comedy in Pune: 2.5 seats asked",
            "…",
            0.9,
            "high",
            ["Invite hosts"],
            "platform",
            {"listings": 5},
        ),
        InsightDraft(
            "anomaly",
            "a",
            "Payment failures rose",
            "…",
            0.99,
            "critical",
            ["Check provider"],
            "platform",
            {"z_score": 9},
        ),
        InsightDraft("churn_risk_cohort", "c", "Low one", "…", 0.6, "low", [], "cohort", {"cohort_size": 40}),
        InsightDraft("churn_risk_cohort", "u", "One person", "…", 0.7, "high", [], "user", {}, target_id="u-9"),
        InsightDraft(
            "host_optimisation",
            "h",
            "Hold it on Saturdays",
            "…",
            0.97,
            "medium",
            ["Schedule"],
            "host",
            {"aspect": "best_time"},
            target_id="h-1",
            host_id="h-1",
        ),
    ]
    insights_store(generated_types=[], drafts=drafts, narratives={}, now=clock.now())
    return dict(AIInsight.objects.values_list("dedup_key", "id"))


@pytest.mark.django_db(transaction=True)
def test_analysts_and_admins_find_insights_by_body_or_query_and_hosts_are_refused(client: TestClient) -> None:
    _seed()
    body = {"insight_types": ["demand_supply", "anomaly", "churn_risk_cohort"], "priority": "high", "limit": 20}
    response = client.post("/api/analytics/insights", json=body, headers=_headers("analyst"))
    assert response.status_code == 200
    page = response.json()
    assert [i["title"] for i in page["insights"]] == ["Payment failures rose", "Comedy in Pune: 2.5 seats asked"]
    assert page["total_count"] == 2 and page["has_more"] is False
    first = page["insights"][0]
    assert first["insight_type"] == "anomaly" and first["status"] == "pending" and first["confidence_score"] == 0.99
    assert set(first) >= {
        "is_actionable",
        "suggested_actions",
        "target_type",
        "target_id",
        "created_at",
        "evidence",
        "model_version",
    }
    admin = client.post("/api/analytics/insights", json=body, headers=_headers("admin")).json()
    assert admin["total_count"] == 3  # the insight about one person is for admins only
    listed = client.get(
        "/api/analytics/insights?insight_types=anomaly&insight_types=demand_supply&limit=1", headers=_headers("analyst")
    ).json()
    assert listed["total_count"] == 2 and listed["has_more"] is True and len(listed["insights"]) == 1
    assert client.post("/api/analytics/insights", json={}, headers=_headers("host", "h-1")).status_code == 403
    assert client.get("/api/analytics/insights").status_code == 401


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "body",
    [
        {"insight_types": ["nonsense"]},
        {"priority": "urgent"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"status": ["open"]},
        {"unknown": 1},
        {"insight_types": "anomaly"},
    ],
)
def test_a_bad_query_is_a_422(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/analytics/insights", json=body, headers=_headers("analyst"))
    assert response.status_code == 422, response.text


@pytest.mark.django_db(transaction=True)
def test_admins_move_an_insight_along_the_workflow_and_anything_else_is_409(client: TestClient) -> None:
    ids = _seed()
    url = f"/api/analytics/insights/{ids['d']}"
    assert client.patch(url, json={"status": "validated"}, headers=_headers("analyst")).status_code == 403
    moved = client.patch(url, json={"status": "validated"}, headers=_headers("admin"))
    assert moved.status_code == 200 and moved.json()["status"] == "validated"
    again = client.patch(url, json={"status": "dismissed"}, headers=_headers("admin"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_status_transition"
    assert client.patch(url, json={"status": "done"}, headers=_headers("admin")).json()["status"] == "done"
    assert client.patch(url, json={"status": "pending"}, headers=_headers("admin")).status_code == 409
    assert client.patch(url, json={"status": "archived"}, headers=_headers("admin")).status_code == 422
    assert client.patch(url, json={}, headers=_headers("admin")).status_code == 422
    assert (
        client.patch(
            "/api/analytics/insights/999999", json={"status": "validated"}, headers=_headers("admin")
        ).status_code
        == 404
    )
    assert (
        client.patch("/api/analytics/insights/0", json={"status": "validated"}, headers=_headers("admin")).status_code
        == 422
    )
    assert AIInsight.objects.get(id=ids["d"]).status == "done"
    assert AuditLog.objects.filter(action="insight.status", target_id=str(ids["d"])).count() == 2


@pytest.mark.django_db(transaction=True)
def test_generation_is_for_admins_names_unknown_types_and_says_what_had_too_little_data(client: TestClient) -> None:
    assert client.post("/api/analytics/insights/generate", json={}, headers=_headers("analyst")).status_code == 403
    bad = client.post(
        "/api/analytics/insights/generate", json={"insight_types": ["astrology"]}, headers=_headers("admin")
    )
    assert bad.status_code == 422
    response = client.post("/api/analytics/insights/generate", json={}, headers=_headers("admin"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["created"] == 0 and result["failed"] == {}
    assert set(result["findings"]) == {
        "churn_risk_cohort",
        "anomaly",
        "revenue_outlook",
        "demand_supply",
        "host_optimisation",
        "listing_outlook",
    }
    reasons = {(n["insight_type"], n["subject"]) for n in result["not_enough_data"]}
    assert {
        ("churn_risk_cohort", "platform"),
        ("revenue_outlook", "platform"),
        ("demand_supply", "platform"),
    } <= reasons
    assert all(n["status"] == "not_enough_data" and n["threshold"] >= 30 for n in result["not_enough_data"])
    assert AuditLog.objects.filter(action="insights.generate").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_host_page_is_the_hosts_own_with_suggestions_and_another_hosts_is_404(client: TestClient) -> None:
    now = clock.now()  # tokens are checked against the real clock
    _seed()
    for weeks in range(4):
        listing(
            host="h-1",
            category="music",
            starts_at=local(now, days_ago=3 + 7 * weeks, weekday=1, hour=19),
            capacity=20,
            seats_requested=9,
            requests=10,
        )
    listing(
        host="h-2",
        category="music",
        starts_at=now - timedelta(days=4),
        capacity=20,
        seats_requested=2,
        requests=2,
    )
    own = client.get("/api/analytics/hosts/h-1/insights", headers=_headers("host", "h-1"))
    assert own.status_code == 200, own.text
    page = own.json()
    assert page["status"] == "ok" and [s["title"] for s in page["suggestions"]] == ["Hold it on Saturdays"]
    assert page["performance"]["listings"] == 4 and page["forecast"]["status"] == "not_enough_data"
    assert client.get("/api/analytics/hosts/h-2/insights", headers=_headers("host", "h-1")).status_code == 404
    assert client.get("/api/analytics/hosts/nobody/insights", headers=_headers("admin")).status_code == 404
    thin = client.get("/api/analytics/hosts/h-2/insights", headers=_headers("admin")).json()
    assert thin["status"] == "not_enough_data" and thin["suggestions"] == []
    assert thin["message"] == "not enough data: 2 requests over 1 past listings, at least 30 needed"


@pytest.mark.django_db(transaction=True)
def test_a_listing_page_is_its_hosts_and_says_when_there_is_too_little_data(client: TestClient) -> None:
    now = clock.now()  # tokens are checked against the real clock
    mine = listing(
        host="h-1",
        category="music",
        starts_at=now - timedelta(days=4),
        capacity=20,
        seats_requested=9,
        requests=10,
    )
    theirs = listing(
        host="h-2",
        category="music",
        starts_at=now - timedelta(days=4),
        capacity=20,
        seats_requested=2,
        requests=2,
    )
    response = client.get(f"/api/analytics/listings/{mine}/insights", headers=_headers("host", "h-1"))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["performance"]["requests"] == 10 and page["performance"]["seats_requested"] == 9
    assert page["status"] == "not_enough_data" and page["message"].startswith("not enough data: 0 views")
    assert page["forecast"]["status"] == "past" and page["audience"] == {"by_city": [], "by_platform": []}
    assert client.get(f"/api/analytics/listings/{theirs}/insights", headers=_headers("host", "h-1")).status_code == 404
    assert client.get("/api/analytics/listings/L-none/insights", headers=_headers("analyst")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_overview_shows_the_highest_priority_open_platform_insights(client: TestClient) -> None:
    ids = _seed()
    AIInsight.objects.filter(id=ids["a"]).update(status="dismissed")
    overview = client.get("/api/analytics/overview", headers=_headers("analyst")).json()
    assert [i["title"] for i in overview["top_insights"]] == ["Comedy in Pune: 2.5 seats asked", "Low one"]
