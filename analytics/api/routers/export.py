"""GET /api/analytics/export/events (admin): tracked events as CSV or JSON Lines, streamed, audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly
from analytics.api.paths import API_PREFIX
from analytics.metrics.export import (
    MEDIA_TYPES,
    ExportQuery,
    export_chunk,
    export_encode,
    export_header,
    export_range,
)
from analytics.security.audit import audit_record, person_ref

router = APIRouter(prefix=f"{API_PREFIX}/export", tags=["export"])


async def _stream(query: ExportQuery) -> AsyncIterator[bytes]:
    """One database round trip per chunk (through the ORM boundary); each chunk is sent as soon as it is
    encoded, so memory stays bounded by the chunk size."""
    header = export_header(query.format)
    if header:
        yield header
    cursor = None
    while True:
        rows, cursor = await run_db(export_chunk, query=query, after=cursor)
        if rows:
            yield export_encode(rows, query.format)
        if cursor is None:
            return


@router.get(
    "/events",
    summary="Export tracked events (admin)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
async def export_events(
    request: Request,
    principal: AdminOnly,
    start_date: date,
    end_date: date,
    format: Annotated[str, Query(pattern="^(csv|jsonl)$")] = "csv",
    event_name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    user_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> StreamingResponse:
    """Tracked events whose business day is in start_date … end_date (inclusive), oldest first, optionally
    only one event name and/or one user. The export is recorded in the audit log."""
    query = ExportQuery(
        range=export_range(start_date=start_date, end_date=end_date),
        format=format,
        event_name=event_name,
        user_id=user_id,
    )
    await run_db(
        audit_record,
        actor=principal.subject,
        actor_role=principal.role.value,
        action="export.events",
        target_type="user_event",
        target_id=person_ref(user_id) if user_id else "",
        details={
            "start_date": start_date.isoformat(),
            "end_date": end_date.isoformat(),
            "format": format,
            "event_name": event_name,
            "user_filter": user_id is not None,
        },
    )
    filename = f"events-{start_date.isoformat()}-{end_date.isoformat()}.{format}"
    return StreamingResponse(
        _stream(query),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
