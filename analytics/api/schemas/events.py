"""Ingestion request and response shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from analytics.collection.envelope import EventEnvelope


class BatchIn(BaseModel):
    """`{"events": [envelope, …]}`; a bare JSON array of envelopes is accepted too."""

    events: list[EventEnvelope] = Field(min_length=1, max_length=10_000)
    sent_at: str | None = Field(default=None, description="Applied to events that carry no sent_at")


class TrackOut(BaseModel):
    uuid: str | None
    status: Literal["stored", "duplicate", "dropped"]
    reason: str | None = None


class EventResultOut(BaseModel):
    index: int
    uuid: str | None
    status: Literal["stored", "duplicate", "rejected", "dropped"]
    reason: str | None = None
    message: str | None = None
    errors: list[dict[str, str]] | None = None


class BatchOut(BaseModel):
    stored: int
    duplicates: int
    rejected: int
    dropped: int = Field(0, description="Events of opted-out users, or all when collection is disabled")
    status: str | None = Field(None, description="'dropped' when collection is disabled")
    reason: str | None = None
    results: list[EventResultOut]
