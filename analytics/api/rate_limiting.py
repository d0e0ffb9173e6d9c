"""Rate limiting at the edge (docs/operations.md, "Rate limits"; docs/api.md, 429) — and the two other things
every request meets first: its IP prefix is set for the audit log (`current_ip_prefix`), and a NUL in the
path or query under /api/ is refused (422 `nul_character`: PostgreSQL stores none in text).

Each request belongs to a route family — ingestion, reads, AI, logins — and is counted (requests, never
events) against its credential (the write key or bearer token, hashed) and its client's IP prefix (/24,
/48; `X-Forwarded-For` only from ANALYTICS_TRUSTED_PROXIES). Beyond either: 429 `rate_limited` with
`Retry-After`, before any work. Failed authentications (a 401) are counted per IP prefix as well: a few
hundred invalid keys or tokens from one place and every credentialed request from it meets 429 until the
budget refills — guessing keys is slow, while other places are untouched. The store is Redis in production
(shared by every process) and this process's memory in embedded mode (analytics/security/rate_limits.py).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics import clock
from analytics.api.boundary import run_db
from analytics.api.errors import error_response
from analytics.privacy.network import client_ip_prefix
from analytics.security.alerts import security_alert
from analytics.security.audit import current_ip_prefix
from analytics.security.rate_limits import Rate, limiter_store

API = "/api/analytics"
INGEST_PATHS = frozenset({f"{API}/events/track", f"{API}/events/batch"})
AI_PATHS = frozenset({f"{API}/sentiment", f"{API}/user-behavior", f"{API}/clustering"})
LOGIN_PATHS = frozenset({"/dashboard/login/", "/admin/login/"})

# (per credential, per IP prefix). One write key may send 200 requests a second, 400 at once: well above
# the 100 batch requests a second a busy app sends, and above what the ingestion benchmark reaches.
LIMITS: dict[str, tuple[Rate | None, Rate]] = {
    "ingest": (Rate(200, 400), Rate(500, 1000)),
    "read": (Rate(20, 100), Rate(60, 300)),
    "ai": (Rate(2, 20), Rate(5, 40)),
    "login": (None, Rate(0.2, 10)),  # logins: ten at once, then one every five seconds per place
}
AUTH_FAILURES = Rate(1, 200)  # failed authentications per IP prefix: 200 at once, then one a second
logger = logging.getLogger(__name__)


def family(method: str, path: str) -> str | None:
    if path in INGEST_PATHS:
        return "ingest"
    if path in LOGIN_PATHS:
        return "login" if method == "POST" else None
    if path in AI_PATHS:
        return "ai"
    if path == API or path.startswith(API + "/"):
        return None if path == f"{API}/health" else "read"
    return None


def _credential(headers: Headers) -> str:
    raw = headers.get("x-api-key") or headers.get("authorization", "")
    return hashlib.sha256(raw.encode()).hexdigest()[:24] if raw else ""


# A refused network opens (or refreshes) a security alert at most this often per process; the alert's
# dedup key makes the processes agree.
ALERT_EVERY_SECONDS = 300.0
_last_alert: dict[tuple[str, str], float] = {}


def rate_limits_reset() -> None:
    """Full buckets and no alert memory (tests start each case from here)."""
    limiter_store().clear()
    _last_alert.clear()


async def _alert_once(kind: str, prefix: str) -> None:
    key, moment = (kind, prefix), time.monotonic()
    if moment - _last_alert.get(key, -ALERT_EVERY_SECONDS) < ALERT_EVERY_SECONDS:
        return
    _last_alert[key] = moment
    try:
        await run_db(security_alert, kind, prefix, burst=AUTH_FAILURES.burst)
    except Exception as exc:  # the refusal stands whether or not the alert could be written
        logger.warning("rate_limit.alert_failed kind=%s error=%s", kind, type(exc).__name__)


def _too_many(scope: Scope, receive: Receive, send: Send, retry_after: float, what: str):  # type: ignore[no-untyped-def]
    seconds = max(1, math.ceil(retry_after))
    response = error_response(
        429,
        "rate_limited",
        f"too many {what}; retry after {seconds} s",
        details={"retry_after": seconds},
        headers={"Retry-After": str(seconds)},
    )
    return response(scope, receive, send)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        peer = scope.get("client")
        prefix = client_ip_prefix(
            peer=peer[0] if peer else None, headers=headers, trusted_proxies=settings.ANALYTICS_TRUSTED_PROXIES
        )
        current_ip_prefix.set(prefix)  # what the audit log records for whatever this request does
        path = scope.get("path", "")
        if path.startswith("/api/") and ("\x00" in path or b"%00" in scope.get("query_string", b"")):
            # PostgreSQL stores no NUL in text: refused here for every route, not one 500 at a time.
            message = "the path and query parameters may not contain NUL (0x00) characters"
            await error_response(422, "nul_character", message)(scope, receive, send)
            return
        kind = family(scope.get("method", "GET"), scope.get("path", "")) if settings.ANALYTICS_RATE_LIMITS else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        credential = _credential(headers)
        store, now = limiter_store(), clock.now().timestamp()
        if credential:
            blocked = store.hit(f"authfail:{prefix}", AUTH_FAILURES, now, consume=False)
            if not blocked.allowed:
                await _alert_once("auth_failures", prefix)
                await _too_many(scope, receive, send, blocked.retry_after, "failed authentications from this network")
                return
        per_credential, per_prefix = LIMITS[kind]
        if per_credential is not None and credential:
            verdict = store.hit(f"{kind}:cred:{credential}", per_credential, now)
            if not verdict.allowed:
                await _alert_once("rate_limited", prefix)
                await _too_many(scope, receive, send, verdict.retry_after, "requests with this credential")
                return
        verdict = store.hit(f"{kind}:net:{prefix}", per_prefix, now)
        if not verdict.allowed:
            await _alert_once("rate_limited", prefix)
            await _too_many(scope, receive, send, verdict.retry_after, "requests from this network")
            return

        async def counting_failures(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                store.hit(f"authfail:{prefix}", AUTH_FAILURES, clock.now().timestamp())
            await send(message)

        await self.app(scope, receive, counting_failures)
