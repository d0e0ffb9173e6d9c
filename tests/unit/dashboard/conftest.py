"""Dashboard users of each role, logged in with Django's test client.

The test settings wrap the whole project in the host middleware, whose request events a background
thread writes with its own connection: the tests commit for real (`transaction=True`) and the buffer is
flushed before the tables are emptied."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from analytics.collection.buffer import event_buffer
from analytics.dashboard.accounts import dashboard_user_create
from tests.support.logins import verified_client

HOST_ID = "host-1"
OTHER_HOST_ID = "host-2"


@pytest.fixture(autouse=True)
def _tracked_requests_written(transactional_db: None) -> Iterator[None]:
    yield
    assert event_buffer().flush(timeout=10)


@pytest.fixture
def login(transactional_db: None) -> Callable[..., Client]:
    """`login("analyst")` → a client logged in (by password) as a new dashboard user of that role."""

    def make(role: str, host_id: str | None = None) -> Client:
        username = f"{role}-{host_id or 'x'}"
        password = dashboard_user_create(username=username, role=role, host_id=host_id)
        client = Client()
        assert client.login(username=username, password=password)
        if role == "admin":  # dashboard admins pass two-factor authentication at login
            return verified_client(get_user_model().objects.get(username=username), client)
        return client

    return make
