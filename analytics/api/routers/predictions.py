"""Predictions: the model registry (analyst, admin)."""

from __future__ import annotations

from fastapi import APIRouter

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOrAnalyst
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.predictions import ArtefactOut, ModelListOut, ModelSummaryOut, ModelVersionOut
from analytics.intelligence.predictions import PREDICTION_MODELS
from analytics.intelligence.registry import model_list

router = APIRouter(prefix=API_PREFIX, tags=["predictions"])


def _models() -> ModelListOut:
    rows = model_list()
    versions = [
        ModelVersionOut(
            name=row.name,
            version=row.version,
            status=row.status,
            algorithm=row.algorithm,
            trained_at=row.trained_at,
            training_start=row.training_start,
            training_end=row.training_end,
            evaluated_on=row.evaluated_on,
            features=list(row.features),
            training_rows=row.training_rows,
            primary_metric=row.primary_metric,
            evaluation=dict(row.evaluation),
            artefact=ArtefactOut(location="database", sha256=row.artefact_sha256, bytes=row.artefact_bytes),
            promoted_at=row.promoted_at,
            decision=row.decision,
        )
        for row in rows
    ]
    active = {row.name: row for row in rows if row.status == "active"}
    summaries = [
        ModelSummaryOut(
            name=spec.name,
            status="active" if spec.name in active else "not_enough_data",
            active_version=active[spec.name].version if spec.name in active else None,
            trained_at=active[spec.name].trained_at if spec.name in active else None,
            minimum_data=spec.minimum_data,
        )
        for spec in PREDICTION_MODELS
    ]
    return ModelListOut(models=summaries, versions=versions)


@router.get("/models", response_model=ModelListOut, summary="The model registry (analyst, admin)")
async def models(principal: AdminOrAnalyst) -> ModelListOut:
    """Every prediction model: whether a version is active (or there is not enough data yet, with the
    minimum), and every trained version newest first — training window, features, the fresh evaluation
    beside its baseline, where the artefact lives, and why it was promoted or rejected."""
    return await run_db(_models)
