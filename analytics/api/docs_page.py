"""`/api/docs`: Swagger UI from the service's own static files, never a CDN.

FastAPI's default page loads Swagger UI from a CDN at run time and starts it with an inline script; this
page loads the same UI from `/static/` (the `drf-spectacular-sidecar` package ships the Swagger UI
distribution) and starts it from `analytics/static/analytics/api-docs.js`, so the page works offline and
under a Content-Security-Policy that allows only this origin's scripts (analytics/api/edge_headers.py).
"""

from __future__ import annotations

from html import escape

from django.conf import settings
from starlette.requests import Request
from starlette.responses import HTMLResponse

SWAGGER_UI = "drf_spectacular_sidecar/swagger-ui-dist"


def _page(*, title: str, openapi_url: str) -> str:
    static = settings.STATIC_URL.rstrip("/")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(title)} — API docs</title>
<link rel="icon" type="image/png" href="{static}/{SWAGGER_UI}/favicon-32x32.png">
<link rel="stylesheet" href="{static}/{SWAGGER_UI}/swagger-ui.css">
</head>
<body data-openapi-url="{escape(openapi_url)}">
<div id="swagger-ui"></div>
<script src="{static}/{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="{static}/analytics/api-docs.js"></script>
</body>
</html>
"""


def docs_endpoint(*, title: str, openapi_url: str) -> object:
    page = _page(title=title, openapi_url=openapi_url)

    async def api_docs(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    return api_docs
