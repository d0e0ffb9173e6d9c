"""The in-process Python tracker: `track` and `identify` for code running beside the service.

It needs no write key and goes through the same pipeline as HTTP ingestion (validation, time,
consent, scrubbing, enrichment), so nothing it sends skips a step. It never raises into the
caller's code path for bad data: the outcome says what happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from analytics.collection.pipeline import EventOutcome, event_ingest
from analytics.models.events import EventSource

IDENTIFY_EVENT = "user_identified"


def _envelope(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def track(
    *,
    event_name: str,
    user_id: str | int | None = None,
    anonymous_id: str | None = None,
    session_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    timestamp: datetime | str | None = None,
    event_type: str | None = None,
    uuid: str | None = None,
    source: str = EventSource.TRACKER,
) -> EventOutcome:
    """Track one event now (committed when this returns `stored`)."""
    envelope = _envelope(
        event_name=event_name,
        event_type=event_type,
        user_id=user_id,
        anonymous_id=anonymous_id,
        session_id=session_id,
        properties=dict(properties) if properties is not None else None,
        context=dict(context) if context is not None else None,
        timestamp=timestamp,
        uuid=uuid,
    )
    return event_ingest(batch=[envelope], source=source).outcomes[0]


def identify(
    *,
    user_id: str | int,
    anonymous_id: str | None = None,
    traits: Mapping[str, Any] | None = None,
    timestamp: datetime | str | None = None,
) -> EventOutcome:
    """Record that `anonymous_id` is `user_id` (with optional traits, scrubbed like any property)."""
    return track(
        event_name=IDENTIFY_EVENT,
        event_type="user_action",
        user_id=user_id,
        anonymous_id=anonymous_id,
        properties={"traits": dict(traits)} if traits else {},
        timestamp=timestamp,
    )
