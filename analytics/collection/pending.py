"""The shape of a newly stored tracked event as processing steps see it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PendingEvent:
    id: int
    event_name: str
    timestamp: datetime
    user_id: str | None
    anonymous_id: str | None
    session_id: str | None
    listing_id: str | None
    host_id: str | None
    properties: dict[str, Any]


# The columns a processing step may read, in PendingEvent's order.
PENDING_COLUMNS = (
    "id",
    "event_name",
    "timestamp",
    "user_id",
    "anonymous_id",
    "session_id",
    "listing_id",
    "host_id",
    "properties",
)

# A processing step: idempotent work over one chunk, inside the chunk's transaction.
Step = Callable[[Sequence[PendingEvent]], None]
