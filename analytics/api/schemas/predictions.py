"""Predictions at the HTTP edge: the model registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ArtefactOut(BaseModel):
    location: str = Field(description="Where every worker loads it from: 'database' (the registry row)")
    sha256: str
    bytes: int


class ModelVersionOut(BaseModel):
    name: str
    version: int
    status: str = Field(description="candidate | active | retired | rejected")
    algorithm: str
    trained_at: datetime
    training_start: datetime | None
    training_end: datetime | None = Field(description="Training data is everything before this")
    evaluated_on: datetime | None = Field(description="Cutoff of the fresh evaluation on the period after training")
    features: list[str]
    training_rows: int
    primary_metric: str
    evaluation: dict[str, Any]
    artefact: ArtefactOut
    promoted_at: datetime | None
    decision: str = Field(description="Why the version was promoted or rejected")


class ModelSummaryOut(BaseModel):
    name: str
    status: str = Field(description="active | not_enough_data (no version trained yet)")
    active_version: int | None
    trained_at: datetime | None
    minimum_data: str = Field(description="What training needs at least")


class ModelListOut(BaseModel):
    models: list[ModelSummaryOut]
    versions: list[ModelVersionOut]


class ForecastIntervalOut(BaseModel):
    level: float = Field(description="0.8: the 10th to the 90th percentile")
    low: float
    high: float


class AttendanceForecastOut(BaseModel):
    expected_attendance: float = Field(description="Expected seats checked in")
    interval: ForecastIntervalOut
    confirmed_seats: int
    pending_seats: int = Field(description="Seats of requests not yet accepted or paid for")
    expected_further_requests: float = Field(description="Requests still expected before the start")
    baseline: float = Field(description="Seats requested so far × the platform's show-up rate per requested seat")
    lead_days: float
    computed_at: datetime
    model_version: int


class ListingForecastOut(BaseModel):
    listing_id: str
    host_id: str
    starts_at: datetime | None
    capacity: int | None
    as_of: datetime
    status: str = Field(
        description="ok | past | cancelled | pending (not forecast yet) | not_enough_data | no_start_time"
    )
    message: str = ""
    forecast: AttendanceForecastOut | None = None
    actual_attendance: int | None = Field(default=None, description="Seats checked in, once the listing took place")


class RevenueDayOut(BaseModel):
    date: date
    expected: float
    low: float = Field(description="10th percentile")
    high: float = Field(description="90th percentile")


class RevenueForecastOut(BaseModel):
    scope: str = Field(description="platform | host")
    host_id: str | None = None
    days: int
    as_of: datetime
    status: str = Field(description="ok | not_enough_data | no_revenue")
    message: str = ""
    currency: str | None = None
    method: str | None = None
    computed_at: datetime | None = None
    model_version: int | None = None
    interval_level: float | None = None
    total_expected: float | None = None
    backtest: dict[str, Any] | None = Field(
        default=None, description="The rolling-origin backtest of the active version"
    )
    forecast: list[RevenueDayOut]


class AnomalyOut(BaseModel):
    metric_name: str
    date: date
    expected_value: float
    actual_value: float
    z_score: float = Field(description="Standard deviations from the expectation (counts-aware for rates)")
    severity: str = Field(description="warning | critical (≥ 6 standard deviations)")
    direction: str = Field(description="up | down")
    harmful: bool = Field(description="The direction is bad news for this metric (it opened an alert)")
    breakdown: dict[str, Any] | None = Field(description="The breakdown value that moved most")
    detected_at: datetime


class AnomalyListOut(BaseModel):
    days: int
    count: int
    anomalies: list[AnomalyOut]


class RecommendationOut(BaseModel):
    listing_id: str
    title: str
    category: str
    city: str
    host_id: str
    price: float
    starts_at: datetime
    seats_left: int | None = Field(description="capacity − confirmed seats; null when the listing has no capacity")
    score: float = Field(description="the ranking's score (log scale; higher first)")
    reason: str = Field(description="the strongest fact behind it, in words")


class RecommendationsOut(BaseModel):
    user_id: str
    as_of: datetime
    status: Literal["ok", "cold_start", "not_enough_data"]
    message: str
    model: str
    model_version: str
    recommendations: list[RecommendationOut]
