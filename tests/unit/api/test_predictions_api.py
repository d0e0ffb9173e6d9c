"""`GET /api/analytics/models`: the registry over HTTP — "not enough data" with the minimum before any
training, then every version with its evaluation, artefact and decision."""

from __future__ import annotations

from fastapi.testclient import TestClient

from analytics.intelligence.predictions import prediction_models_train
from analytics.intelligence.registry import model_train_and_promote
from analytics.security.tokens import token_issue
from tests.unit.intelligence.predictions.test_registry import FakeSpec


def _get(client: TestClient, role: str = "analyst") -> dict:
    response = client.get(
        "/api/analytics/models", headers={"Authorization": f"Bearer {token_issue(role=role, sub='t')}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_before_any_training_each_model_says_not_enough_data_with_its_minimum(client: TestClient) -> None:
    outcome = prediction_models_train()  # an empty platform: nothing to learn from
    assert {name: o["status"] for name, o in outcome.items()} == {
        "churn": "not_enough_data",
        "conversion": "not_enough_data",
        "attendance": "not_enough_data",
        "revenue_forecast": "not_enough_data",
        "recommendations": "not_enough_data",
    }
    assert outcome["churn"]["found"] == "0 with 0 positive and 0 negative"
    body = _get(client)
    assert body["versions"] == []
    assert [(m["name"], m["status"], m["active_version"]) for m in body["models"]] == [
        ("churn", "not_enough_data", None),
        ("conversion", "not_enough_data", None),
        ("attendance", "not_enough_data", None),
        ("revenue_forecast", "not_enough_data", None),
        ("recommendations", "not_enough_data", None),
    ]
    assert all(m["minimum_data"] for m in body["models"])
    assert "training rows" in body["models"][0]["minimum_data"]


def test_versions_are_listed_newest_first_with_evaluation_artefact_and_decision(client: TestClient) -> None:
    model_train_and_promote(FakeSpec(score=0.91, name="churn"))
    model_train_and_promote(FakeSpec(score=0.80, name="churn"))  # worse: rejected
    body = _get(client, role="admin")
    churn = next(m for m in body["models"] if m["name"] == "churn")
    assert (churn["status"], churn["active_version"]) == ("active", 1)
    versions = [(v["name"], v["version"], v["status"]) for v in body["versions"]]
    assert versions == [("churn", 2, "rejected"), ("churn", 1, "active")]
    rejected = body["versions"][0]
    assert rejected["evaluation"] == {"auc": 0.80} and rejected["primary_metric"] == "auc"
    assert rejected["artefact"]["location"] == "database" and len(rejected["artefact"]["sha256"]) == 64
    assert rejected["artefact"]["bytes"] > 0 and "keeps serving" in rejected["decision"]
    assert rejected["features"] == ["a", "b", "c"]
