"""Alert shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


class AlertNotificationOut(BaseModel):
    kind: str
    channel: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


class AlertOut(BaseModel):
    id: int
    source: str
    metric_name: str
    metric_type: str
    severity: str
    state: str
    dedup_key: str
    title: str
    message: str
    value: float | None
    threshold: float | None
    unit: str
    period_type: str
    period_start: date | None
    period_end: date | None
    dimensions: dict[str, Any]
    opened_at: datetime
    last_evaluated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str
    resolved_at: datetime | None
    resolved_by: str
    notifications: list[AlertNotificationOut]


class AlertPageOut(BaseModel):
    total: int
    limit: int
    offset: int
    results: list[AlertOut]
