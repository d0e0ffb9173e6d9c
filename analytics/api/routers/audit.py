"""GET /api/analytics/audit (admin): the audit log, newest first, filtered and paginated."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly
from analytics.api.limits import MAX_OFFSET, MAX_PAGE_SIZE
from analytics.api.paths import API_PREFIX
from analytics.api.responses import JSONBytesResponse
from analytics.models import AuditLog

router = APIRouter(prefix=API_PREFIX, tags=["security"])

FIELDS = ("id", "occurred_at", "actor", "actor_role", "action", "target_type", "target_id", "details", "ip_prefix")


def _page(
    *, action: str | None, actor: str | None, since: datetime | None, until: datetime | None, limit: int, offset: int
) -> dict[str, Any]:
    rows = AuditLog.objects.all()
    if action:
        rows = rows.filter(action=action) if not action.endswith(".") else rows.filter(action__startswith=action)
    if actor:
        rows = rows.filter(actor=actor)
    if since:
        rows = rows.filter(occurred_at__gte=since)
    if until:
        rows = rows.filter(occurred_at__lt=until)
    return {
        "total": rows.count(),
        "limit": limit,
        "offset": offset,
        "results": list(rows.order_by("-occurred_at", "-id").values(*FIELDS)[offset : offset + limit]),
    }


@router.get("/audit", summary="The audit log (admin)")
async def audit(
    principal: AdminOnly,
    action: Annotated[str | None, Query(max_length=64, description="an action, or a family ending in '.'")] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JSONBytesResponse:
    """Who did what, newest first: reads of person-level data (the person named only by a keyed hash), exports,
    token issues, key creation and revocation, alert changes, metric recalculations, quarantine replays and the
    admin's changes — each with the actor, the resource, the time and the requester's IP prefix. Filter by
    `action` (exact, or a family such as `alert.`), `actor`, and a time range."""
    return JSONBytesResponse(
        await run_db(_page, action=action, actor=actor, since=since, until=until, limit=limit, offset=offset)
    )
