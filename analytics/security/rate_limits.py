"""Rate limits (docs/operations.md, "Rate limits"): GCRA — the generic cell rate algorithm, a token bucket
kept as one timestamp per key — in this process (embedded mode) or in Redis (production, one atomic script
per check, shared by every web process).

Each limit is a rate (requests per second) and a burst (how many may come at once). The clock is passed
in (`analytics.clock`), so tests drive the limiter by moving time, never by sleeping. We wrote the 20
lines rather than take a library: the maintained ones read the system clock themselves and spend two
round trips where the script spends one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        return self.interval * self.burst


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float  # seconds until one more would be allowed (0 when allowed)


def gcra(tat: float | None, now: float, rate: Rate) -> tuple[Verdict, float]:
    """The verdict for one more request, and the key's new theoretical arrival time."""
    current = now if tat is None or tat < now else tat
    new_tat = current + rate.interval
    allow_at = new_tat - rate.tolerance
    if now < allow_at:
        return Verdict(False, allow_at - now), current
    return Verdict(True, 0.0), new_tat


class Store(Protocol):
    def hit(self, key: str, rate: Rate, now: float, *, consume: bool = True) -> Verdict: ...

    def clear(self) -> None: ...


class MemoryStore:
    """One process's limits (embedded mode, tests)."""

    def __init__(self) -> None:
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, rate: Rate, now: float, *, consume: bool = True) -> Verdict:
        with self._lock:
            verdict, new_tat = gcra(self._tats.get(key), now, rate)
            if consume and verdict.allowed:
                self._tats[key] = new_tat
            if len(self._tats) > 100_000:  # forget keys whose bucket is full again
                self._tats = {k: t for k, t in self._tats.items() if t > now}
            return verdict

    def clear(self) -> None:
        with self._lock:
            self._tats.clear()


_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local consume = ARGV[4] == '1'
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then return {0, tostring(allow_at - now)} end
if consume then redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1) end
return {1, '0'}
"""


class RedisStore:
    """Limits shared by every process, one atomic script per check. A Redis outage lets requests through
    (logged): an unavailable limiter must not take the service down with it — and after a failure the store
    is not asked again for OUTAGE_BACKOFF_SECONDS, so requests do not each wait on a dead connection."""

    OUTAGE_BACKOFF_SECONDS = 5.0

    def __init__(self, url: str, *, prefix: str = "loopin:rl:") -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._script = self._client.register_script(_SCRIPT)
        self._prefix = prefix
        self._down_until = 0.0

    def hit(self, key: str, rate: Rate, now: float, *, consume: bool = True) -> Verdict:
        import redis

        if time.monotonic() < self._down_until:
            return Verdict(True, 0.0)
        try:
            allowed, retry = self._script(
                keys=[self._prefix + key], args=[repr(now), repr(rate.interval), repr(rate.tolerance), int(consume)]
            )
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + self.OUTAGE_BACKOFF_SECONDS
            logger.warning("rate_limit.store_unavailable error=%s", type(exc).__name__)
            return Verdict(True, 0.0)
        return Verdict(bool(allowed), float(retry))

    def clear(self) -> None:
        import redis

        try:
            for key in self._client.scan_iter(match=self._prefix + "*"):
                self._client.delete(key)
        except redis.RedisError as exc:
            logger.warning("rate_limit.clear_failed error=%s", type(exc).__name__)


@lru_cache(maxsize=1)
def limiter_store() -> Store:
    """The store every limit of this process uses: Redis when ANALYTICS_RATE_LIMIT_REDIS_URL is set
    (production, shared by every process), else this process's memory."""
    from django.conf import settings

    url = settings.ANALYTICS_RATE_LIMIT_REDIS_URL
    return RedisStore(url) if url else MemoryStore()
