"""The host platform's FastAPI app, the way Loopin serves its API: routers included with prefixes,
a mounted sub-application, and (optionally) Django mounted beside it."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from analytics.middleware import AnalyticsASGIMiddleware


def _listings_router() -> APIRouter:
    router = APIRouter()

    @router.get("/{listing_id}")
    def listing(listing_id: int) -> dict[str, Any]:
        return {"id": listing_id}

    @router.get("/{listing_id}/page", response_class=HTMLResponse)
    def listing_page(listing_id: int) -> str:
        return f"<html><body>listing {listing_id}</body></html>"

    @router.get("/{listing_id}/gone")
    def gone(listing_id: int) -> dict[str, Any]:
        raise HTTPException(status_code=404, detail="no such listing")

    return router


def _orders_router() -> APIRouter:
    # A router with its own prefix, included under another one: /api/v1/orders/{order_id}/items/{item}
    items = APIRouter()

    @items.get("/{order_id}/items/{item}")
    def order_item(order_id: int, item: str) -> dict[str, Any]:
        return {"order": order_id, "item": item}

    orders = APIRouter(prefix="/orders")
    orders.include_router(items)
    return orders


def _partners_app() -> FastAPI:
    partners = FastAPI()
    router = APIRouter()

    @router.get("/{partner_id}")
    def partner(partner_id: str) -> dict[str, Any]:
        return {"partner": partner_id}

    partners.include_router(router, prefix="/accounts")
    return partners


async def _raw_asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A mounted ASGI app with no Starlette router of its own (as a mounted Django is)."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"raw"})


SLOW_SECONDS = 0.05  # GET /slow: a known duration for the middleware's response time


def create_host_api(*, user_id: Any = None, django_app: Any = None, middleware: bool = True) -> FastAPI:
    """The host API; `django_app` is mounted at /web when given."""
    app = FastAPI()
    listings = _listings_router()
    app.include_router(listings, prefix="/events")
    app.include_router(listings, prefix="/v2/events")  # the same routes under a second prefix
    app.include_router(_orders_router(), prefix="/api/v1")

    @app.get("/crash")
    def crash() -> dict[str, Any]:
        raise RuntimeError("card 4111 1111 1111 1111 of priya@example.com declined")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/slow")
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(SLOW_SECONDS)
        return {"status": "ok"}

    @app.get("/me")
    def me(request: Request) -> PlainTextResponse:
        request.state.analytics_user_id = request.headers.get("x-host-user")
        return PlainTextResponse("me")

    app.mount("/partners", _partners_app())
    app.mount("/raw", _raw_asgi_app)
    if django_app is not None:
        app.mount("/web", django_app)
    if middleware:
        app.add_middleware(AnalyticsASGIMiddleware, user_id=user_id)
    return app
