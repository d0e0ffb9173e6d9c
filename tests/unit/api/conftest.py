"""API-tier fixtures: a client that connects from a chosen address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from analytics.collection.buffer import event_buffer


@pytest.fixture
def client_from(transactional_db: None) -> Iterator[Callable[[str], TestClient]]:
    """`client_from("203.0.113.77")`: the whole ASGI app, seen from that peer address."""
    from loopin_backend.asgi import application

    with ExitStack() as stack:
        yield lambda host: stack.enter_context(TestClient(application, client=(host, 50123)))
    assert event_buffer().flush(timeout=10)  # the host middleware's events land inside this test
