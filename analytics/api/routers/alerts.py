"""Alerts: analysts and admins read them; only admins acknowledge or resolve (docs/design.md, "Access and scoping")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly, AdminOrAnalyst
from analytics.api.limits import MAX_ID, MAX_OFFSET, MAX_PAGE_SIZE
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.alerts import AlertNotificationOut, AlertOut, AlertPageOut
from analytics.metrics.alerting import alert_acknowledge, alert_get, alert_list, alert_resolve
from analytics.models import Alert

router = APIRouter(prefix=f"{API_PREFIX}/alerts", tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _out(alert: Alert) -> AlertOut:
    return AlertOut(
        **{name: getattr(alert, name) for name in AlertOut.model_fields if name != "notifications"},
        notifications=[
            AlertNotificationOut.model_validate(n, from_attributes=True)
            for n in sorted(alert.notifications.all(), key=lambda n: n.id)
        ],
    )


@router.get("", response_model=AlertPageOut, summary="List alerts")
async def list_alerts(
    principal: AdminOrAnalyst,
    state: Literal["open", "acknowledged", "resolved"] | None = None,
    severity: Literal["warning", "critical"] | None = None,
    metric: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AlertPageOut:
    """Alerts newest first, with their notifications' delivery status; filter by state, severity, metric."""
    page = await run_db(alert_list, state=state, severity=severity, metric=metric, limit=limit, offset=offset)
    return AlertPageOut(total=page.total, limit=limit, offset=offset, results=[_out(a) for a in page.alerts])


def _acknowledge(alert_id: int, actor: str, role: str) -> Alert:
    alert_acknowledge(alert_id=alert_id, actor=actor, actor_role=role)
    return alert_get(alert_id=alert_id)


def _resolve(alert_id: int, actor: str, role: str) -> Alert:
    alert_resolve(alert_id=alert_id, actor=actor, actor_role=role)
    return alert_get(alert_id=alert_id)


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertOut,
    summary="Acknowledge an alert",
    responses={409: {"description": "the alert is not open (`alert_already_acknowledged`, `alert_already_resolved`)"}},
)
async def acknowledge_alert(alert_id: AlertId, principal: AdminOnly) -> AlertOut:
    """open → acknowledged. 404 for an unknown id, 409 when the alert is not open. Audit-logged."""
    alert = await run_db(_acknowledge, alert_id, principal.subject, principal.role.value)
    return _out(alert)


@router.post(
    "/{alert_id}/resolve",
    response_model=AlertOut,
    summary="Resolve an alert",
    responses={409: {"description": "the alert is already resolved (`alert_already_resolved`)"}},
)
async def resolve_alert(alert_id: AlertId, principal: AdminOnly) -> AlertOut:
    """open or acknowledged → resolved; the key then cools down. 404 unknown id, 409 already resolved."""
    alert = await run_db(_resolve, alert_id, principal.subject, principal.role.value)
    return _out(alert)
