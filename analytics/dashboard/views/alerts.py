"""Acknowledge or resolve an alert from the overview (admins, as in the API). POST only, CSRF-checked."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from analytics.dashboard.access import dashboard_page
from analytics.errors import Conflict
from analytics.metrics.alerting import alert_acknowledge, alert_resolve
from analytics.security.roles import Principal, Role

ACTIONS = {"acknowledge": (alert_acknowledge, "acknowledged"), "resolve": (alert_resolve, "resolved")}


@require_POST
@dashboard_page(Role.ADMIN)
def alert_action(request: HttpRequest, alert_id: str, action: str, *, principal: Principal) -> HttpResponse:
    change, done = ACTIONS[action]  # the URL admits only these two
    try:
        change(alert_id=int(alert_id), actor=principal.subject, actor_role=principal.role.value)
    except Conflict as exc:
        messages.warning(request, f"Alert {alert_id}: {exc.message}")
    else:
        messages.success(request, f"Alert {alert_id} {done}.")
    return redirect("dashboard:overview")
