"""Insights: analysts and admins read them (insights about one person: admins only); admins generate them
and change their status; hosts read their own page (docs/design.md, "Access and scoping")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly, AdminOrAnalyst, HostScope
from analytics.api.limits import MAX_ID, MAX_OFFSET
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.insights import (
    MAX_LIMIT,
    HostInsightsOut,
    InsightGenerateIn,
    InsightGenerateOut,
    InsightOut,
    InsightPageOut,
    InsightQueryIn,
    InsightStatusIn,
    InsightType,
    ListingInsightsOut,
    Priority,
    Status,
    TargetType,
)
from analytics.intelligence.insights.pages import host_insights_get, listing_insights_get
from analytics.intelligence.insights.service import insights_generate
from analytics.intelligence.insights.store import (
    InsightQuery,
    insight_as_dict,
    insight_get,
    insight_list,
    insight_status_set,
)
from analytics.metrics.hosts import MAX_DAYS
from analytics.security.audit import audit_record
from analytics.security.roles import Principal

router = APIRouter(prefix=API_PREFIX, tags=["insights"])
InsightId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _page(caller: Principal, query: InsightQuery) -> InsightPageOut:
    page = insight_list(caller=caller, query=query)
    return InsightPageOut(
        insights=[InsightOut(**insight_as_dict(row)) for row in page.insights],
        total_count=page.total_count,
        has_more=page.has_more,
    )


def _query(body: InsightQueryIn) -> InsightQuery:
    return InsightQuery(
        insight_types=tuple(body.insight_types or ()),
        priority=body.priority,
        status=tuple(body.status or ()),
        target_type=body.target_type,
        include_stale=body.include_stale,
        limit=body.limit,
        offset=body.offset,
    )


@router.post("/insights", response_model=InsightPageOut, summary="Find insights")
async def find_insights(
    principal: AdminOrAnalyst, body: Annotated[InsightQueryIn | None, Body()] = None
) -> InsightPageOut:
    """Open insights (pending, validated) the newest generation still found, highest priority first; filter by
    types, minimum priority, status and target. Insights about one person are for admins only."""
    return await run_db(_page, principal, _query(body or InsightQueryIn()))


@router.get("/insights", response_model=InsightPageOut, summary="List insights")
async def list_insights(
    principal: AdminOrAnalyst,
    insight_types: Annotated[list[InsightType] | None, Query(max_length=10)] = None,
    priority: Priority | None = None,
    status: Annotated[list[Status] | None, Query(max_length=4)] = None,
    target_type: TargetType | None = None,
    include_stale: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> InsightPageOut:
    """The same as `POST /insights`, with the filters as query parameters (repeat `insight_types`, `status`)."""
    body = InsightQueryIn(
        insight_types=insight_types,
        priority=priority,
        status=status,
        target_type=target_type,
        include_stale=include_stale,
        limit=limit,
        offset=offset,
    )
    return await run_db(_page, principal, _query(body))


def _generate(types: list[str] | None, actor: str, role: str) -> dict[str, Any]:
    result = insights_generate(insight_types=types).as_dict()
    audit_record(
        actor=actor,
        actor_role=role,
        action="insights.generate",
        target_type="insights",
        target_id=",".join(types or ["all"])[:128],
        details={k: result[k] for k in ("created", "refreshed", "retired", "failed")},
    )
    return result


@router.post("/insights/generate", response_model=InsightGenerateOut, summary="Generate insights now (admin)")
async def generate_insights(
    principal: AdminOnly, body: Annotated[InsightGenerateIn | None, Body()] = None
) -> InsightGenerateOut:
    """Run the generators now (as the 6-hourly task does) and store what they find; says which comparisons had
    too little data to be made."""
    types: list[str] | None = list(body.insight_types) if body and body.insight_types else None
    return InsightGenerateOut(**await run_db(_generate, types, principal.subject, principal.role.value))


def _set_status(insight_id: int, status: str, caller: Principal) -> InsightOut:
    insight_get(caller=caller, insight_id=insight_id)  # 404 before anything changes
    row = insight_status_set(insight_id=insight_id, status=status, actor=caller.subject, actor_role=caller.role.value)
    return InsightOut(**insight_as_dict(row))


@router.patch(
    "/insights/{insight_id}",
    response_model=InsightOut,
    summary="Change an insight's status (admin)",
    responses={409: {"description": "not an allowed move (`invalid_status_transition`)"}},
)
async def set_insight_status(insight_id: InsightId, body: InsightStatusIn, principal: AdminOnly) -> InsightOut:
    """pending → validated or dismissed; validated → done. Any other move is 409; unknown id 404. Audit-logged."""
    return await run_db(_set_status, insight_id, body.status, principal)


@router.get("/hosts/{host_id}/insights", response_model=HostInsightsOut, summary="A host's insights")
async def host_insights(
    principal: HostScope,
    host_id: Annotated[str, Path(min_length=1, max_length=64)],
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> HostInsightsOut:
    """Performance and audience over the last `days` (groups under 5 people suppressed), the revenue forecast
    and the open suggestions for this host. A host sees only their own (another's id → 404)."""
    return HostInsightsOut(**await run_db(host_insights_get, caller=principal, host_id=host_id, days=days))


@router.get("/listings/{listing_id}/insights", response_model=ListingInsightsOut, summary="A listing's insights")
async def listing_insights(
    principal: HostScope, listing_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> ListingInsightsOut:
    """Performance and audience since it was published (groups under 5 people suppressed), its attendance
    forecast and open suggestions. A host sees only their own listings (another's → 404)."""
    return ListingInsightsOut(**await run_db(listing_insights_get, caller=principal, listing_id=listing_id))
