"""POST /api/analytics/sentiment over HTTP: analysts and admins only, one text or a batch of up to
1,000, and every bad body a 422 in the project's error shape — never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.security.tokens import token_issue

URL = "/api/analytics/sentiment"


def bearer(role: str) -> dict[str, str]:
    token = token_issue(role=role, sub=f"t-{role}", host_id="h1" if role == "host" else None)
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, *, field: str | None = None, says: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == "validation_failed"
    problems = error["details"]["problems"]
    if field is not None:
        assert any(p["field"] == field for p in problems), problems
    if says is not None:
        assert any(says in p["message"] for p in problems), problems
    return error


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analysts_and_admins_get_the_sentiment_of_one_text(client: TestClient, role: str) -> None:
    response = client.post(URL, json={"text": "The concert was amazing, I loved it!"}, headers=bearer(role))
    assert response.status_code == 200
    body = response.json()
    assert body["sentiment"] == "positive" and 0 < body["score"] <= 1 and 0.5 < body["confidence"] <= 1
    details = body["details"]
    assert details["vader_compound"] > 0 and details["textblob_polarity"] > 0
    assert "textblob_subjectivity" in details and details["emotions"]["joy"] > 0
    assert details["openai_sentiment"] is None and details["method"] == "combined"


def test_hosts_and_anonymous_callers_may_not_use_it(client: TestClient) -> None:
    assert client.post(URL, json={"text": "great"}).status_code == 401
    assert client.post(URL, json={"text": "great"}, headers=bearer("host")).status_code == 403


def test_a_batch_answers_in_order(client: TestClient) -> None:
    texts = [
        "I hated every minute.",
        "Loved it!",
        "Doors open at 7.",
        "La fiesta de anoche fue un desastre total, nadie organizó nada.",
    ]
    response = client.post(URL, json={"texts": texts}, headers=bearer("analyst"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [r["sentiment"] for r in body["results"]] == ["negative", "positive", "neutral", "neutral"]
    assert body["results"][3]["details"]["method"] == "unsupported_language"
    assert body["results"][3]["confidence"] < 0.34


def test_a_batch_of_1000_texts_is_accepted(client: TestClient) -> None:
    response = client.post(URL, json={"texts": ["Pretty good night"] * 1000}, headers=bearer("analyst"))
    assert response.status_code == 200 and response.json()["count"] == 1000


def test_more_than_1000_texts_is_a_clear_422(client: TestClient) -> None:
    response = client.post(URL, json={"texts": ["fine"] * 1001}, headers=bearer("analyst"))
    assert_problem(response, field="body.texts", says="1000")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"text": "a", "texts": ["b"]}, "body"),
        ({"text": ""}, "body.text"),
        ({"text": "   "}, "body.text"),
        ({"texts": []}, "body.texts"),
        ({"texts": ["fine", ""]}, "body.texts.1"),
        ({"text": 42}, "body.text"),
        ({"text": None}, "body"),
        ({"texts": "not a list"}, "body.texts"),
        ({"texts": [1, 2]}, "body.texts.0"),
        ({"texts": [{"text": "nested"}]}, "body.texts.0"),
        ({"text": "ok", "language": "en"}, "body.language"),
        (["a", "list"], "body"),
        ("just a string", "body"),
    ],
)
def test_bad_shapes_are_422_in_the_error_shape(client: TestClient, body: Any, field: str) -> None:
    assert_problem(client.post(URL, json=body, headers=bearer("analyst")), field=field)


def test_a_body_that_is_not_json_is_422(client: TestClient) -> None:
    headers = {**bearer("analyst"), "Content-Type": "application/json"}
    error = assert_problem(client.post(URL, content=b'{"text": "unterminated', headers=headers))
    assert error["details"]["problems"][0]["code"] == "json_invalid"


def test_a_100_kb_text_is_answered_truncated(client: TestClient) -> None:
    text = "The festival was brilliant and the crowd was lovely. " * 2_000  # ~106 kB
    response = client.post(URL, json={"text": text}, headers=bearer("analyst"))
    assert response.status_code == 200
    assert response.json()["details"]["truncated"] is True and response.json()["sentiment"] == "positive"


def test_a_text_over_the_size_limit_is_422(client: TestClient) -> None:
    assert_problem(client.post(URL, json={"text": "a" * 200_001}, headers=bearer("analyst")), field="body.text")


def test_html_and_personal_data_are_not_echoed(client: TestClient) -> None:
    text = "<p>Awful <b>night</b>. Refund me: riya.k@example.com / +91 98765 43210</p>"
    response = client.post(URL, json={"text": text}, headers=bearer("admin"))
    assert response.status_code == 200
    assert "example.com" not in response.text and "98765" not in response.text and "<b>" not in response.text
    assert response.json()["sentiment"] == "negative"


def test_emoji_only_text_is_answered(client: TestClient) -> None:
    response = client.post(URL, json={"text": "😍😍"}, headers=bearer("analyst"))
    assert response.status_code == 200 and response.json()["sentiment"] == "positive"
