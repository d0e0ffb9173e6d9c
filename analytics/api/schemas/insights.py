"""Insight shapes (docs/api.md, "Insights")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from analytics.api.limits import MAX_OFFSET

InsightType = Literal[
    "churn_risk_cohort", "anomaly", "revenue_outlook", "demand_supply", "host_optimisation", "listing_outlook"
]
Priority = Literal["low", "medium", "high", "critical"]
Status = Literal["pending", "validated", "dismissed", "done"]
TargetType = Literal["platform", "host", "listing", "cohort", "user"]
MAX_LIMIT = 100


class InsightOut(BaseModel):
    id: int
    insight_type: str
    title: str
    description: str
    narrative: str
    narrative_source: str = Field(description="template | openai")
    confidence_score: float = Field(ge=0, le=1)
    priority: str
    is_actionable: bool
    suggested_actions: list[str]
    target_type: str
    target_id: str
    evidence: dict[str, Any] = Field(description="the figures cited, the comparison group and its size")
    model_name: str
    model_version: str
    status: str
    current: bool = Field(description="the newest generation still found it")
    created_at: datetime
    refreshed_at: datetime
    status_changed_at: datetime | None
    status_changed_by: str


class InsightQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    insight_types: list[InsightType] | None = Field(default=None, max_length=10)
    priority: Priority | None = Field(default=None, description="this priority or higher")
    status: list[Status] | None = Field(default=None, max_length=4, description="default: pending and validated")
    target_type: TargetType | None = None
    include_stale: bool = Field(default=False, description="also those the newest generation no longer found")
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class InsightPageOut(BaseModel):
    insights: list[InsightOut]
    total_count: int
    has_more: bool


class InsightGenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    insight_types: list[InsightType] | None = Field(default=None, max_length=10, description="default: all")


class NotEnoughDataOut(BaseModel):
    insight_type: str
    subject: str
    status: Literal["not_enough_data"]
    observations: int
    threshold: int
    message: str


class InsightGenerateOut(BaseModel):
    created: int
    refreshed: int
    quiet: int = Field(description="found again, but dismissed or done in the last 30 days: not raised again")
    retired: int = Field(description="open insights the generation no longer found")
    findings: dict[str, int]
    failed: dict[str, str]
    not_enough_data_count: int
    not_enough_data: list[NotEnoughDataOut] = Field(description="the first 50")


class InsightStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status


class ScopedPageOut(BaseModel):
    status: Literal["ok", "not_enough_data", "no_suggestions"]
    message: str
    performance: dict[str, Any]
    forecast: dict[str, Any] | None
    suggestions: list[InsightOut]


class HostInsightsOut(ScopedPageOut):
    host_id: str


class ListingInsightsOut(ScopedPageOut):
    listing_id: str
    host_id: str
    category: str
    city: str
    audience: dict[str, list[dict[str, Any]]]
