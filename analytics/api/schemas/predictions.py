"""Predictions at the HTTP edge: the model registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
