"""Metrics: the catalogue with current status, one metric's history, and (admin) a recalculation."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly, AdminOrAnalyst
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.analytics import (
    CalculateIn,
    CalculateOut,
    MetricCardOut,
    MetricCatalogueOut,
    MetricHistoryOut,
    MetricPointOut,
)
from analytics.metrics import MetricsProcessor
from analytics.metrics.alerting import alerts_evaluate
from analytics.metrics.analyses import check_day
from analytics.metrics.catalogue import metric_cards, metric_history
from analytics.security.audit import audit_record

router = APIRouter(prefix=f"{API_PREFIX}/metrics", tags=["business intelligence"])


@router.get("", response_model=MetricCatalogueOut, summary="Metric catalogue")
async def catalogue(principal: AdminOrAnalyst) -> MetricCatalogueOut:
    """Every KPI, KRI and KR with its definition's facts and its latest stored value and status."""
    cards = await run_db(metric_cards)
    return MetricCatalogueOut(count=len(cards), metrics=[MetricCardOut.model_validate(c) for c in cards])


def _calculate(day: date | None, actor: str, role: str) -> CalculateOut:
    result = MetricsProcessor.process_daily_metrics(date=day)
    # The alert check runs after each calculation, as after the hourly run; the notifications it owes
    # go out with the next delivery run (beat, every 30 s).
    alerts = alerts_evaluate()
    audit_record(
        actor=actor,
        actor_role=role,
        action="metrics.calculate",
        target_type="metrics",
        target_id=day.isoformat() if day else "dirty",
        details={"rows": result.rows, "alerts_opened": alerts.opened, "alerts_resolved": alerts.resolved},
    )
    return CalculateOut(
        date=day,
        days_rebuilt=result.days_rebuilt,
        periods=result.periods,
        rows=result.rows,
        alerts_opened=alerts.opened,
        alerts_resolved=alerts.resolved,
    )


@router.post("/calculate", response_model=CalculateOut, summary="Recalculate metrics (admin)")
async def calculate(principal: AdminOnly, body: Annotated[CalculateIn | None, Body()] = None) -> CalculateOut:
    """Run `MetricsProcessor.process_daily_metrics(date)`: with a date, rebuild that business day and every
    period it affects; without, every dirty day. Then check the alert thresholds (open / auto-resolve)."""
    day = body.date if body else None
    check_day("date", day)
    return await run_db(_calculate, day, principal.subject, principal.role.value)


@router.get("/{metric_name}", response_model=MetricHistoryOut, summary="One metric's history")
async def history(
    principal: AdminOrAnalyst,
    metric_name: str,
    period_type: Annotated[str | None, Query(pattern="^(day|week|month)$")] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    breakdown: Annotated[str | None, Query(pattern="^(city|category|platform|host)$")] = None,
) -> MetricHistoryOut:
    """Stored values per period (oldest first) for the whole platform and each breakdown value; 404 for an
    unknown metric."""
    check_day("date_from", date_from)
    check_day("date_to", date_to)
    result = await run_db(
        metric_history,
        metric_name=metric_name,
        period_type=period_type,
        date_from=date_from,
        date_to=date_to,
        breakdown=breakdown,
    )
    return MetricHistoryOut(
        metric_name=metric_name,
        definition=result.definition,
        period_type=result.period_type,
        current=MetricCardOut.model_validate(result.card),
        history=[MetricPointOut.model_validate(p) for p in result.points],
        breakdowns={k: [MetricPointOut.model_validate(p) for p in v] for k, v in result.breakdowns.items()},
    )
