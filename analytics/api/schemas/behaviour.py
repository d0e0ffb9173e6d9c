"""Behaviour analysis and persona shapes (the documented `UserBehaviorResponse`, clustering, personas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class UserBehaviorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The platform's user id, as a string (a JSON number is accepted and read as its string).
    user_id: str | int = Field(description="the platform's user id")
    days: int = Field(default=30, ge=1, le=365, description="analysis window: the last `days` days")


class PrimaryPersonaOut(BaseModel):
    id: int
    name: str
    strength: float | None


class UserBehaviorOut(BaseModel):
    """`status` "no_data" (no tracked event of the user in the window) comes with empty fields, never
    with a made-up profile."""

    user_id: str
    days: int
    as_of: datetime
    status: Literal["ok", "no_data"]
    message: str = ""
    engagement_score: float | None = Field(default=None, description="P(a browsing session in the next 30 days)")
    engagement_trend: str | None = None
    activity_patterns: dict[str, Any] = Field(default_factory=dict)
    preferences: dict[str, Any] = Field(default_factory=dict)
    risk_factors: list[str] = Field(default_factory=list)
    risk_evidence: dict[str, dict[str, Any]] = Field(default_factory=dict)
    persona_suggestions: list[str] = Field(default_factory=list)
    primary_persona: PrimaryPersonaOut | None = None
    churn_risk: float | None = Field(
        default=None,
        description="P(no user-initiated activity in the next 30 days) from the active churn model; null when no "
        "model is trained yet or the user was not active in the last 30 days (see predictions.status)",
    )
    predictions: dict[str, Any] = Field(
        default_factory=dict,
        description="active_next_30_days_probability (the engagement score), engagement_trend, churn_risk, "
        "conversion_probability (P(a check-in in the next 30 days)) and status (ok | not_enough_data | "
        "not_at_risk_population)",
    )
    model_version: str | None = None


class ClusteringIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_clusters: int | None = Field(default=None, description="2-20; null: chosen from the data (3-8, best silhouette)")


class PersonaOut(BaseModel):
    id: int
    name: str
    description: str
    behavior_pattern: dict[str, Any]
    size: int
    confidence: float
    run_id: str
    created_at: datetime


class ClusteringOut(BaseModel):
    run_id: str
    n_clusters: int
    chosen_by: str
    users_clustered: int
    users_without_enough_behaviour: int
    silhouette_score: float | None
    silhouette_by_k: dict[int, float]
    clusters: list[PersonaOut]


class PersonaListOut(BaseModel):
    count: int
    personas: list[PersonaOut]
