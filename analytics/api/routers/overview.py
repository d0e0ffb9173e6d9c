"""GET /api/analytics/overview (analyst, admin): the headline numbers and KPI cards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOrAnalyst
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.analytics import OverviewOut
from analytics.metrics.overview import MAX_DAYS, overview_get

router = APIRouter(prefix=API_PREFIX, tags=["business intelligence"])


@router.get("/overview", response_model=OverviewOut, summary="Platform overview")
async def overview(principal: AdminOrAnalyst, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 7) -> OverviewOut:
    """The last `days` business days including today: events, users, new users, net revenue, today's
    active users, conversion, average session length, open alerts and the KPI cards with status."""
    result = await run_db(overview_get, days=days)
    return OverviewOut.model_validate(result, from_attributes=True)
