"""GET /api/analytics/health — open to anyone; GET /health/detailed and /debug/info — admins only."""

from __future__ import annotations

from fastapi import APIRouter

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly, Public
from analytics.api.paths import API_PREFIX
from analytics.api.responses import JSONBytesResponse
from analytics.operations.diagnostics import debug_info, health_detailed
from analytics.operations.health import health_report

router = APIRouter(prefix=API_PREFIX, tags=["health"])


@router.get("/health", dependencies=[Public], summary="Service health")
async def health() -> JSONBytesResponse:
    """200 while the service can take events (database up); 503 when it cannot."""
    report = await run_db(health_report)
    return JSONBytesResponse(report.body, status_code=200 if report.healthy else 503)


@router.get("/health/detailed", summary="Every component's state (admin)")
async def detailed(principal: AdminOnly) -> JSONBytesResponse:
    """The health report plus queue depths, the last run of each scheduled task, the active models' age, every
    AI service's model, version and freshness, the metrics run, quarantined events and open alerts
    (docs/operations.md, "Troubleshooting")."""
    return JSONBytesResponse(await run_db(health_detailed))


@router.get("/debug/info", summary="Versions and settings in force (admin)")
async def info(principal: AdminOnly) -> JSONBytesResponse:
    """The service's and its main packages' versions, and every setting in force — keys, secrets, passwords
    and tokens masked, and the password of any URL."""
    return JSONBytesResponse(await run_db(debug_info))
