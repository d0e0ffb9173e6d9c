"""Quarantine (refused events) shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from analytics.api.limits import MAX_ID


class FailedEventOut(BaseModel):
    id: int
    received_at: datetime
    source: str
    reason: str
    error_message: str
    error_details: dict[str, Any]
    event_uuid: str
    payload: Any
    replayed_at: datetime | None
    replay_status: str


class FailedEventPageOut(BaseModel):
    total: int
    limit: int
    offset: int
    results: list[FailedEventOut]


class ReplayIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=10_000)
    reason: str | None = Field(default=None, max_length=64)


class ReplayOut(BaseModel):
    replayed: int
    stored: int
    duplicates: int
    rejected: int
    dropped: int
