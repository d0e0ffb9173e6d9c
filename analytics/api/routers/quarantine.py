"""The quarantine of refused events (admin only): inspect and replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly
from analytics.api.limits import MAX_OFFSET, MAX_PAGE_SIZE
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.quarantine import FailedEventOut, FailedEventPageOut, ReplayIn, ReplayOut
from analytics.collection.quarantine import failed_event_list, failed_event_replay
from analytics.errors import ValidationFailed

router = APIRouter(prefix=f"{API_PREFIX}/events/failed", tags=["ingestion"])


@router.get("", response_model=FailedEventPageOut, summary="List refused events")
async def list_failed(
    principal: AdminOnly,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> FailedEventPageOut:
    """Refused events (after the privacy scrub), newest first, with the reason for each."""
    total, rows = await run_db(failed_event_list, reason=reason, limit=limit, offset=offset)
    return FailedEventPageOut(
        total=total,
        limit=limit,
        offset=offset,
        results=[FailedEventOut.model_validate(row, from_attributes=True) for row in rows],
    )


@router.post("/replay", response_model=ReplayOut, summary="Replay refused events")
async def replay_failed(body: ReplayIn, principal: AdminOnly) -> ReplayOut:
    """Send quarantined events through the pipeline again (after a fix); each keeps its outcome."""
    if not body.ids and not body.reason:
        raise ValidationFailed("give 'ids' or 'reason' to choose what to replay", code="nothing_selected")
    report = await run_db(failed_event_replay, ids=body.ids, reason=body.reason, actor=principal.subject)
    return ReplayOut(**report.__dict__)
