"""The service's own request metrics go to Prometheus (`/metrics`), never into tracked events."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics.operations.telemetry import LATENCY, REQUESTS


class RequestMetricsMiddleware:
    """Counts and times every `/api/` request by its route template (never the raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(template, scope.get("method", ""), str(status)).inc()
            LATENCY.labels(template, scope.get("method", "")).observe(time.perf_counter() - started)
