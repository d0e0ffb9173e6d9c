"""`/metrics` (Prometheus) for the scraper only (docs/operations.md, "Scraping /metrics").

The exposition names every route, its traffic and errors, and the process's memory and open files, so it
is not public. A request gets in when DEBUG is on, when its client address (the peer, or
`X-Forwarded-For` from a trusted proxy) lies in `METRICS_ALLOWED_NETWORKS`, or when it carries
`Authorization: Bearer <METRICS_TOKEN>`. Nothing else is trusted, not even loopback: a reverse proxy or
sidecar on the same host would otherwise expose the metrics to everyone it forwards. Refusals use the
API's error shape: 401 for a missing or wrong token (when a token is configured), 403 otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.db import DatabaseError
from prometheus_client import make_asgi_app
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from analytics.api.boundary import run_db
from analytics.api.errors import error_response
from analytics.errors import Unavailable
from analytics.operations.telemetry import OPERATIONAL, operational_snapshot_refresh
from analytics.privacy.network import client_ip


def _in_allowed_networks(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in settings.METRICS_ALLOWED_NETWORKS)


def _same_secret(given: str, expected: str) -> bool:
    """Constant time, and the same time whatever the lengths (both sides are hashed first)."""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


def scrape_refusal(scope: Scope) -> Response | None:
    """None when the request may read the metrics, else the refusal to send."""
    if settings.DEBUG:
        return None
    headers = Headers(scope=scope)
    peer = scope.get("client")
    address = client_ip(
        peer=peer[0] if peer else None, headers=headers, trusted_proxies=settings.ANALYTICS_TRUSTED_PROXIES
    )
    if _in_allowed_networks(address):
        return None
    token: str = settings.METRICS_TOKEN
    if not token:
        return error_response(
            403,
            "metrics_forbidden",
            "the metrics are readable only from METRICS_ALLOWED_NETWORKS (no scrape token is configured)",
        )
    scheme, _, given = headers.get("authorization", "").partition(" ")
    given = given.strip()
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not given:
        return error_response(401, "missing_token", "send the scrape token as a bearer token", headers=challenge)
    if not _same_secret(given, token):
        return error_response(401, "invalid_token", "the scrape token is not valid", headers=challenge)
    return None


class ScrapeGate:
    """The Prometheus ASGI app behind `scrape_refusal`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = scrape_refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            try:
                await run_db(operational_snapshot_refresh)
            except (Unavailable, DatabaseError):  # database down: the process's own metrics are still served
                OPERATIONAL.snapshot = {}
        await self.app(scope, receive, send)


def metrics_app() -> ScrapeGate:
    """What `/metrics` and `/metrics/` serve."""
    return ScrapeGate(make_asgi_app())
