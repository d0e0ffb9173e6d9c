"""The FastAPI application factory: /api/analytics/*, docs at /api/docs (served without a CDN), schema at
/api/openapi.json; security headers on everything the application answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import StatelessLifespan as Lifespan

from analytics.api.docs_page import docs_endpoint
from analytics.api.edge_headers import SecurityHeadersMiddleware
from analytics.api.errors import install_error_handlers
from analytics.api.observability import RequestMetricsMiddleware
from analytics.api.openapi_errors import document_errors
from analytics.api.rate_limiting import RateLimitMiddleware
from analytics.api.routers import (
    alerts,
    analyses,
    audit,
    behaviour,
    events,
    export,
    health,
    hosts,
    insights,
    metrics,
    overview,
    predictions,
    privacy,
    quarantine,
    sentiment,
)
from analytics.api.schemas.events import BatchIn
from analytics.collection.envelope import EventEnvelope

_DOCUMENTED_BODIES = (EventEnvelope, BatchIn)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema plus the ingestion bodies, which are parsed by hand for speed, and every
    operation's error answers (analytics/api/openapi_errors.py)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in _DOCUMENTED_BODIES:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in model_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = model_schema
    app.openapi_schema = document_errors(schema)
    return schema


def create_app(*, lifespan: Lifespan | None = None) -> FastAPI:
    """The API. `lifespan` lets the deployable project attach run-mode work (the embedded beat)."""
    app = FastAPI(
        lifespan=lifespan,
        title="Loopin Analytics",
        version=settings.VERSION,
        description="Collection, business intelligence and AI for the Loopin events marketplace.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        responses={
            429: {
                "description": "rate limited: too many requests for this credential or network, or too many "
                "failed authentications from it (`rate_limited`; docs/operations.md, 'Rate limits')",
                "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
            }
        },
    )
    install_error_handlers(app)
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(RequestMetricsMiddleware)
    # Outermost, so it also covers what asgi.py mounts later (Django, /metrics, /static).
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_route(
        "/api/docs",
        docs_endpoint(title=app.title, openapi_url="/api/openapi.json"),  # type: ignore[arg-type]
        methods=["GET"],
        include_in_schema=False,
    )
    app.include_router(health.router)
    app.include_router(quarantine.router)
    app.include_router(events.router)
    app.include_router(alerts.router)
    app.include_router(overview.router)
    app.include_router(metrics.router)
    app.include_router(analyses.router)
    app.include_router(hosts.router)
    app.include_router(export.router)
    app.include_router(behaviour.router)
    app.include_router(sentiment.router)
    app.include_router(predictions.router)
    app.include_router(insights.router)
    app.include_router(audit.router)
    app.include_router(privacy.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
