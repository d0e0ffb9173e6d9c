"""Fixtures shared by every tier: an HTTP client for the one ASGI app, keys, tokens, frozen time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.buffer import event_buffer
from analytics.security.api_keys import api_key_create
from analytics.security.tokens import token_issue


@pytest.fixture
def client(transactional_db: None) -> Iterator[TestClient]:
    """The whole ASGI application over HTTP. API tests commit for real (the API's ORM calls run in
    worker threads with their own connections), so this needs `transactional_db`. The test settings
    install the host middleware, whose `api_request` events a background buffer writes: they are
    written before the test's tables are emptied, never into the next test."""
    from loopin_backend.asgi import application

    with TestClient(application) as test_client:
        yield test_client
    assert event_buffer().flush(timeout=10)


@pytest.fixture
def write_key(transactional_db: None) -> str:
    return api_key_create(name="tests").key


@pytest.fixture
def key_headers(write_key: str) -> dict[str, str]:
    return {"X-API-Key": write_key}


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {token_issue(role='admin', sub='test-admin')}"}


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    instant = datetime.fromisoformat("2026-03-10T12:00:00+00:00")
    clock.freeze(instant)
    yield instant
    clock.freeze(None)


@pytest.fixture(autouse=True)
def _fresh_recommendation_pool() -> Iterator[None]:
    """Every test reads the open listings afresh (the serving pool lives as long as the process)."""
    from analytics.intelligence.recommendations.candidates import open_listings_forget

    open_listings_forget()
    yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Every test starts with full rate-limit buckets (the in-process store lives as long as the process)."""
    from analytics.api.rate_limiting import rate_limits_reset

    rate_limits_reset()
    yield
