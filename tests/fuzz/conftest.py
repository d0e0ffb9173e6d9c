"""The API fuzzing tier: Schemathesis generates requests from the served OpenAPI schema — valid ones and
deliberately broken ones, with an admin token and the demo's write key — against the service served as
`make run` serves it, on a tiny simulated platform (tests/support/served_demo.py).

Rate limits are off in the server under test: the fuzzer sends thousands of requests from one address
and a 429 would hide what a route answers. The limits have their own attack tests (tests/unit/api/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.served_demo import Served, served_demo

USERS, DAYS = 80, 42  # a tiny platform (42 days: the fewest that hold the demo incidents); every route has rows


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_demo(
        tmp_path_factory.mktemp("fuzz"), users=USERS, days=DAYS, env={"ANALYTICS_RATE_LIMITS": "false"}
    ) as demo:
        yield demo
