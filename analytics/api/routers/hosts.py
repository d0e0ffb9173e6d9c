"""GET /api/analytics/hosts/{host_id}/overview: a host's own listings (hosts: only their own; another
host's id → 404; analysts and admins: any host)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from analytics.api.boundary import run_db
from analytics.api.deps import HostScope
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.analytics import HostOverviewOut
from analytics.metrics.hosts import MAX_DAYS, host_overview_get

router = APIRouter(prefix=f"{API_PREFIX}/hosts", tags=["hosts"])


@router.get("/{host_id}/overview", response_model=HostOverviewOut, summary="A host's listings overview")
async def host_overview(
    principal: HostScope,
    host_id: Annotated[str, Path(min_length=1, max_length=64)],
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> HostOverviewOut:
    """Views, requests, conversion, net revenue, attendance and rating of the host's own listings over the
    last `days` business days, with the audience as aggregates (groups under 5 people suppressed)."""
    result = await run_db(host_overview_get, caller=principal, host_id=host_id, days=days)
    return HostOverviewOut.model_validate(result, from_attributes=True)
