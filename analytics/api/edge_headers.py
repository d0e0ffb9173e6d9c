"""Security headers on every response of the one ASGI application — FastAPI's, Django's (mounted inside
it), `/metrics` and `/static/` alike (docs/api.md, "Security headers").

A header a response already carries is kept (Django sets some of these itself); the rest are added:

- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: same-origin` everywhere;
- `Content-Security-Policy`: for HTML pages (the admin, `/api/docs`) scripts, styles, fonts and fetches
  from this origin only and no framing — the dashboard's pages also allow inline styles, which its
  charting library sets; anything else `default-src 'none'` (a JSON or CSV body is never a document to run);
- `Strict-Transport-Security` when the request came over TLS: the connection's own scheme, or
  `X-Forwarded-Proto: https` from a peer listed in `ANALYTICS_TRUSTED_PROXIES` (nobody else's);
- `Cache-Control: no-store` on everything but the public, static parts (`/static/`, `/api/docs`,
  `/api/openapi.json`): API answers, exports and admin pages carry personal data.
"""

from __future__ import annotations

from django.conf import settings
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics.privacy.network import is_trusted_proxy

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The dashboard's charts: plotly.js sets inline styles on the elements it draws (it cannot be told not
# to), so its pages allow inline *styles*; scripts stay this origin's files only.
DASHBOARD_POLICY = PAGE_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DASHBOARD_PREFIX = "/dashboard/"
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"
CACHEABLE_PREFIXES = ("/static/", "/api/docs", "/api/openapi.json")
_ALWAYS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
)


def over_tls(scope: Scope) -> bool:
    """The request reached us over HTTPS: directly, or through a trusted proxy that says so."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    peer = scope.get("client")
    if not peer or not is_trusted_proxy(peer[0], settings.ANALYTICS_TRUSTED_PROXIES):
        return False
    proto = Headers(scope=scope).get("x-forwarded-proto", "")
    return proto.split(",")[0].strip().lower() == "https"


def _with_defaults(
    raw: list[tuple[bytes, bytes]], *, tls: bool, cacheable: bool, dashboard: bool = False
) -> list[tuple[bytes, bytes]]:
    """`raw` plus each missing header; names compare case-insensitively (Django sends them capitalised)."""
    present = {name.lower(): value for name, value in raw}
    html = present.get(b"content-type", b"").lower().startswith(b"text/html")
    page_policy = DASHBOARD_POLICY if dashboard else PAGE_POLICY
    wanted = [*_ALWAYS, ("content-security-policy", page_policy if html else DATA_POLICY)]
    if tls:
        wanted.append(("strict-transport-security", HSTS))
    if not cacheable:
        wanted.append(("cache-control", "no-store"))
    raw.extend((name.encode(), value.encode()) for name, value in wanted if name.encode() not in present)
    return raw


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = over_tls(scope)
        path = scope.get("path", "")
        cacheable = path.startswith(CACHEABLE_PREFIXES)
        dashboard = path.startswith(DASHBOARD_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_defaults(
                    list(message.get("headers", [])), tls=tls, cacheable=cacheable, dashboard=dashboard
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)
