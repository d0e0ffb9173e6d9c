from fastapi.testclient import TestClient


def test_health_answers_200_with_database_backlog_and_integrations(client: TestClient) -> None:
    response = client.get("/api/analytics/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["backlog"] == {"unprocessed_events": 0, "oldest_unprocessed_age_seconds": None}
    assert body["integrations"] == {
        "posthog": {"configured": False, "person_deletion_configured": False},
        "openai": {"configured": False},
    }
    assert body["version"]
