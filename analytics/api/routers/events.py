"""Ingestion: POST /api/analytics/events/track and /events/batch (write key)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from fastapi import APIRouter, Request

from analytics import clock
from analytics.api.body import parse_json, read_json_bytes
from analytics.api.boundary import run_db
from analytics.api.deps import WriteKey
from analytics.api.paths import API_PREFIX
from analytics.api.responses import JSONBytesResponse
from analytics.api.schemas.events import BatchIn, BatchOut, TrackOut
from analytics.api.uploads import upload_gate
from analytics.collection.envelope import MAX_EVENT_BYTES, EventEnvelope, RequestContext
from analytics.collection.pipeline import DUPLICATE, REJECTED, UUID_CONFLICT, EventOutcome, event_ingest
from analytics.errors import Conflict, PayloadTooLarge, ValidationFailed
from analytics.models.events import EventSource
from analytics.privacy.network import client_ip_prefix

router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["ingestion"])

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_BATCH_EVENTS = 10_000
_DISABLED = "analytics_disabled"
_UPLOAD_REFUSALS: dict[int | str, dict[str, Any]] = {
    408: {"description": "the body did not arrive within the deadline (`request_timeout`); the connection closes"},
    415: {"description": "the body is not sent as application/json (`unsupported_media_type`)"},
    429: {
        "description": "too many uploads in progress from this address (`too_many_uploads`), or too many "
        "requests for this write key or network, or failed authentications from it (`rate_limited`); "
        "retry after `Retry-After` seconds",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    },
}


def _request_context(request: Request) -> RequestContext:
    return RequestContext(
        received_at=clock.now(),
        ip_prefix=client_ip_prefix(
            peer=request.client.host if request.client else None,
            headers=request.headers,
            trusted_proxies=settings.ANALYTICS_TRUSTED_PROXIES,
        ),
        user_agent=request.headers.get("user-agent", ""),
    )


def _body_schema(model: type[Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }


def _result_out(outcome: EventOutcome) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": outcome.index,
        "uuid": outcome.uuid,
        "status": outcome.status,
        "reason": outcome.reason,
    }
    if outcome.status == REJECTED:
        out["message"] = outcome.message
        out["errors"] = list(outcome.problems)
    return out


@router.post(
    "/track",
    summary="Track one event",
    response_model=TrackOut,
    openapi_extra=_body_schema(EventEnvelope),
    responses={
        **_UPLOAD_REFUSALS,
        409: {"description": "uuid already stored with a different payload"},
        413: {"description": "event over 1 MB"},
        422: {"description": "invalid event"},
        503: {"description": "database unavailable or upload buffer full; retry after Retry-After seconds"},
    },
)
async def track(request: Request, key: WriteKey) -> JSONBytesResponse:
    """Store one tracked event. 200 means it is committed (`stored`), was already stored
    (`duplicate`), or was deliberately not stored (`dropped`, with the reason)."""
    context = _request_context(request)
    gate = upload_gate()
    async with gate.upload(context.ip_prefix) as ticket:
        raw = await read_json_bytes(
            request, ticket=ticket, limit=MAX_EVENT_BYTES, too_large_code="event_too_large", what="event"
        )
        async with gate.processing:
            body = parse_json(raw)
            del raw
            if not settings.ANALYTICS_ENABLED:
                return JSONBytesResponse({"uuid": None, "status": "dropped", "reason": _DISABLED})
            if not isinstance(body, dict):
                raise ValidationFailed("the body must be one event object", code="invalid_event")
            result = await run_db(event_ingest, batch=[body], source=EventSource.HTTP, request=context)
    outcome = result.outcomes[0]
    if outcome.status == REJECTED:
        details = {"uuid": outcome.uuid, "problems": list(outcome.problems)}
        if outcome.reason == UUID_CONFLICT:
            raise Conflict(outcome.message or "uuid conflict", code=UUID_CONFLICT, details=details)
        if outcome.reason == "event_too_large":
            raise PayloadTooLarge(outcome.message or "event too large", code="event_too_large", details=details)
        raise ValidationFailed(
            outcome.message or "invalid event", code=outcome.reason or "invalid_event", details=details
        )
    body_out: dict[str, Any] = {"uuid": outcome.uuid, "status": outcome.status}
    if outcome.status not in ("stored", DUPLICATE):
        body_out["reason"] = outcome.reason
    return JSONBytesResponse(body_out)


def _events_of(body: Any) -> list[Any]:
    """The events of a batch body (`{"events": [...]}` or a bare array); whole-batch errors raise."""
    if isinstance(body, list):
        events = body
    elif isinstance(body, dict):
        unknown = sorted(set(body) - {"events", "sent_at"})
        if unknown:
            raise ValidationFailed(
                f"unknown batch fields: {', '.join(unknown)}", code="unknown_field", details={"fields": unknown}
            )
        if "events" not in body:
            raise ValidationFailed("the batch needs an 'events' list", code="missing_events")
        events = body["events"]
        if not isinstance(events, list):
            raise ValidationFailed("'events' must be a list", code="invalid_events")
        batch_sent_at = body.get("sent_at")
        if batch_sent_at is not None:
            for event in events:  # parsed from this request's body, so ours to fill in (no copies)
                if isinstance(event, dict):
                    event.setdefault("sent_at", batch_sent_at)
    else:
        raise ValidationFailed('the body must be {"events": [...]} or a JSON array', code="invalid_batch")
    if not events:
        raise ValidationFailed("the batch is empty", code="empty_batch")
    if len(events) > MAX_BATCH_EVENTS:
        raise PayloadTooLarge(
            f"a batch holds at most {MAX_BATCH_EVENTS} events",
            code="batch_too_large",
            details={"limit_events": MAX_BATCH_EVENTS, "received_events": len(events)},
        )
    return events


@router.post(
    "/batch",
    summary="Track a batch of events",
    response_model=BatchOut,
    openapi_extra=_body_schema(BatchIn),
    responses={
        **_UPLOAD_REFUSALS,
        413: {"description": "over 10,000 events or 20 MB"},
        503: {"description": "database unavailable or upload buffer full; retry after Retry-After seconds"},
    },
)
async def batch(request: Request, key: WriteKey) -> JSONBytesResponse:
    """Store each valid event; reject invalid ones one by one. `stored + duplicates + rejected
    (+ dropped) == sent`, with a reason for every rejected event."""
    context = _request_context(request)
    gate = upload_gate()
    async with gate.upload(context.ip_prefix) as ticket:
        raw = await read_json_bytes(
            request, ticket=ticket, limit=MAX_BODY_BYTES, too_large_code="payload_too_large", what="batch"
        )
        async with gate.processing:
            events = _events_of(parse_json(raw))
            del raw
            if not settings.ANALYTICS_ENABLED:
                return JSONBytesResponse(
                    {
                        "status": "dropped",
                        "reason": _DISABLED,
                        "stored": 0,
                        "duplicates": 0,
                        "rejected": 0,
                        "dropped": len(events),
                        "results": [
                            {"index": i, "uuid": None, "status": "dropped", "reason": _DISABLED}
                            for i in range(len(events))
                        ],
                    }
                )
            result = await run_db(event_ingest, batch=events, source=EventSource.HTTP, request=context)
    return JSONBytesResponse(
        {
            "stored": result.stored,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "dropped": result.dropped,
            "results": [_result_out(outcome) for outcome in result.outcomes],
        }
    )
