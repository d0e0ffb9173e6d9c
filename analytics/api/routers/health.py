"""GET /api/analytics/health — open to anyone."""

from __future__ import annotations

from fastapi import APIRouter

from analytics.api.boundary import run_db
from analytics.api.deps import Public
from analytics.api.paths import API_PREFIX
from analytics.api.responses import JSONBytesResponse
from analytics.operations.health import health_report

router = APIRouter(prefix=API_PREFIX, tags=["health"])


@router.get("/health", dependencies=[Public], summary="Service health")
async def health() -> JSONBytesResponse:
    """200 while the service can take events (database up); 503 when it cannot."""
    report = await run_db(health_report)
    return JSONBytesResponse(report.body, status_code=200 if report.healthy else 503)
