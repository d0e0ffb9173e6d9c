"""Validate, dismiss or close an insight from the overview (admins, as in the API). POST only, CSRF-checked."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from analytics.dashboard.access import dashboard_page
from analytics.errors import Conflict
from analytics.intelligence.insights.store import insight_status_set
from analytics.security.roles import Principal, Role


@require_POST
@dashboard_page(Role.ADMIN)
def insight_action(request: HttpRequest, insight_id: str, status: str, *, principal: Principal) -> HttpResponse:
    try:  # the URL admits only validated, dismissed and done
        insight_status_set(
            insight_id=int(insight_id), status=status, actor=principal.subject, actor_role=principal.role.value
        )
    except Conflict as exc:  # an unknown id is a 404 (dashboard_page)
        messages.warning(request, f"Insight {insight_id}: {exc.message}")
    else:
        messages.success(request, f"Insight {insight_id} marked {status}.")
    return redirect("dashboard:overview")
