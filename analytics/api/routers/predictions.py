"""Predictions: the model registry (analyst, admin), listing attendance forecasts (analyst, admin, the
listing's own host) and a person's recommendations (admin: per-person data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly, AdminOrAnalyst, HostScope
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.predictions import (
    AnomalyListOut,
    AnomalyOut,
    ArtefactOut,
    ListingForecastOut,
    ModelListOut,
    ModelSummaryOut,
    ModelVersionOut,
    RecommendationsOut,
    RevenueForecastOut,
)
from analytics.intelligence.anomalies.service import MAX_DAYS as ANOMALY_DAYS
from analytics.intelligence.anomalies.service import anomalies_list
from analytics.intelligence.attendance.service import listing_forecast_get
from analytics.intelligence.forecasting.revenue import HORIZON_DAYS
from analytics.intelligence.forecasting.service import host_revenue_forecast_get, revenue_forecast_get
from analytics.intelligence.predictions import PREDICTION_MODELS
from analytics.intelligence.recommendations.service import MAX_LIMIT as MAX_RECOMMENDATIONS
from analytics.intelligence.recommendations.service import recommendations_for
from analytics.intelligence.registry import model_list
from analytics.security.audit import audit_record, person_ref

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


@router.get(
    "/listings/{listing_id}/forecast",
    response_model=ListingForecastOut,
    summary="A listing's attendance forecast (analyst, admin, its host)",
    responses={404: {"description": "no such listing (or another host's)"}},
)
async def listing_forecast(
    principal: HostScope, listing_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> ListingForecastOut:
    """Expected seats checked in with an 80% interval, for an upcoming listing: its confirmed seats used
    with their calibrated probabilities, its pending requests, and the requests still expected by its start
    (docs/predictions.md). A listing that has taken place answers its actual attendance and no forecast;
    a cancelled one says so; before an attendance model is trained, `status: "not_enough_data"`."""
    result = await run_db(listing_forecast_get, caller=principal, listing_id=listing_id)
    return ListingForecastOut.model_validate(result)


Days = Annotated[int, Query(ge=1, le=HORIZON_DAYS, description=f"1…{HORIZON_DAYS}")]


@router.get(
    "/forecasts/revenue",
    response_model=RevenueForecastOut,
    summary="Daily net revenue forecast of the platform (analyst, admin)",
    responses={422: {"description": "days outside 1…28 (`invalid_days`)"}},
)
async def revenue_forecast(principal: AdminOrAnalyst, days: Days = HORIZON_DAYS) -> RevenueForecastOut:
    """Daily net revenue (payments − refunds − chargebacks, INR) for the next `days` business days with 80%
    intervals, and the rolling-origin backtest of the method (docs/predictions.md)."""
    return RevenueForecastOut.model_validate(await run_db(revenue_forecast_get, days=days))


@router.get(
    "/hosts/{host_id}/forecast",
    response_model=RevenueForecastOut,
    summary="Daily net revenue forecast of one host (that host, analyst, admin)",
    responses={404: {"description": "no such host (or another host's id)"}, 422: {"description": "invalid days"}},
)
async def host_revenue_forecast(
    principal: HostScope, host_id: Annotated[str, Path(min_length=1, max_length=64)], days: Days = HORIZON_DAYS
) -> RevenueForecastOut:
    """The host's daily net revenue for the next `days` business days with 80% intervals; `no_revenue` when
    the host had none in the last 120 days."""
    result = await run_db(host_revenue_forecast_get, caller=principal, host_id=host_id, days=days)
    return RevenueForecastOut.model_validate(result)


@router.get(
    "/anomalies",
    response_model=AnomalyListOut,
    summary="Detected anomalies (analyst, admin)",
    responses={422: {"description": "days outside 1…90 (`invalid_days`)"}},
)
async def anomalies(
    principal: AdminOrAnalyst, days: Annotated[int, Query(ge=1, le=ANOMALY_DAYS, description="1…90")] = 30
) -> AnomalyListOut:
    """The business days of the last `days` on which a watched series (daily active users, net revenue,
    payment failure rate, API error rate, view-to-request rate) broke from its weekday pattern and trend,
    newest first, with the expected and observed values and the breakdown that moved most."""
    found = await run_db(anomalies_list, days=days)
    return AnomalyListOut(days=days, count=len(found), anomalies=[AnomalyOut.model_validate(a) for a in found])


def _recommend(user_id: str, limit: int, actor: str, role: str) -> RecommendationsOut:
    result = recommendations_for(user_id=user_id, limit=limit)
    audit_record(
        actor=actor,
        actor_role=role,
        action="recommendations.read",
        target_type="user",
        target_id=person_ref(user_id),
        details={"limit": limit, "status": result["status"]},
    )
    return RecommendationsOut.model_validate(result)


@router.get(
    "/users/{user_id}/recommendations",
    response_model=RecommendationsOut,
    summary="Listings recommended to one person (admin)",
)
async def recommendations(
    principal: AdminOnly,
    user_id: Annotated[str, Path(min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=MAX_RECOMMENDATIONS)] = 10,
) -> RecommendationsOut:
    """Upcoming, open listings (not full, not cancelled) the person has not asked to join, ranked by a hybrid of
    their category, city, price and time-of-week affinity, hosts they went to and popularity, each with a reason.
    `status`: `ok`, `cold_start` (no listing history: home city and popularity), `not_enough_data` (nothing
    open). Unknown user: 404. Audit-logged (per-person data)."""
    return await run_db(_recommend, user_id.strip() or user_id, limit, principal.subject, principal.role.value)
