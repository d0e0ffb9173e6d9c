"""A NUL character on PostgreSQL (which stores none in text): every path, query parameter and body string
that carries one is a 422 `nul_character`, never a 500 — the parameter-extremes test runs on SQLite, which
stores NUL, so this is where the defence is attacked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.bi_support import bearer

API = "/api/analytics"


@pytest.mark.parametrize(
    "path",
    [
        "/alerts?metric=a%00b",
        "/trends?event=page%00view",
        "/trends?event=page_view&property=k%3Da%00b",
        "/export/events?start_date=2026-03-01&end_date=2026-03-02&event_name=a%00b",
        "/export/events?start_date=2026-03-01&end_date=2026-03-02&user_id=a%00b",
        "/hosts/h%00x/overview",
        "/listings/l%00x/forecast",
        "/audit?actor=a%00b",
        "/events/failed?reason=a%00b",
    ],
)
def test_a_nul_in_the_address_is_a_422(client: TestClient, path: str) -> None:
    response = client.get(API + path, headers=bearer("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "nul_character"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/user-behavior", {"user_id": "a\x00b", "days": 30}),
        ("/funnels", {"steps": ["event_viewed", "a\x00b"], "date_from": "2026-03-01", "date_to": "2026-03-02"}),
    ],
)
def test_a_nul_in_a_body_string_is_a_422(client: TestClient, path: str, body: dict[str, object]) -> None:
    response = client.post(API + path, json=body, headers=bearer("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "nul_character"
