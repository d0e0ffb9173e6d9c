"""The production rate-limit store (analytics/security/rate_limits.py) on the real Redis: the same verdicts as
the in-process store, shared by every process that uses it, and a Redis outage lets requests through
rather than refusing them (an unavailable limiter must not take the service down with it)."""

from __future__ import annotations

import uuid

from analytics.security.rate_limits import MemoryStore, Rate, RedisStore
from tests.integration.proxy import free_port

REDIS = "redis://127.0.0.1:6379/0"


def test_the_redis_store_gives_the_in_process_verdicts_and_is_shared() -> None:
    prefix = f"loopin:rl-test:{uuid.uuid4().hex}:"
    first, second, memory = RedisStore(REDIS, prefix=prefix), RedisStore(REDIS, prefix=prefix), MemoryStore()
    rate = Rate(2, 3)
    try:
        for now in (100.0, 100.0, 100.0, 100.0, 100.2, 100.5, 101.0, 101.0):
            expected = memory.hit("k", rate, now)
            got = (first if int(now * 10) % 2 else second).hit("k", rate, now)  # two "processes", one bucket
            assert (got.allowed, round(got.retry_after, 6)) == (expected.allowed, round(expected.retry_after, 6))
        peek = first.hit("k", rate, 101.0, consume=False)
        assert peek == memory.hit("k", rate, 101.0, consume=False)
    finally:
        first.clear()


def test_a_redis_outage_lets_requests_through_without_waiting_on_it_each_time() -> None:
    down = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    script, calls = down._script, []
    down._script = lambda **kwargs: calls.append(kwargs) or script(**kwargs)
    verdicts = [down.hit("k", Rate(1, 1), 100.0) for _ in range(50)]
    assert all(v.allowed for v in verdicts)
    assert len(calls) == 1  # one failed attempt, then the backoff: no request waits on the dead connection
