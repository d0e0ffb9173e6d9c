"""Who is looking at the dashboard, and what they may open.

A logged-in Django user acts as the `Principal` of its `DashboardUser` row (role, host id); a superuser
without one acts as an admin. Anyone else is sent to the login page (not logged in) or refused (a
logged-in account without a dashboard role). Pages declare their roles; a host asking for an analyst
page is sent to its own host view, and another host's view answers 404 like the API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from analytics.errors import NotFound, ValidationFailed
from analytics.models import DashboardUser
from analytics.security.roles import Principal, Role
from analytics.security.two_factor import two_factor_satisfied

ANALYSTS = (Role.ADMIN, Role.ANALYST)
EVERYONE = (Role.ADMIN, Role.ANALYST, Role.HOST)

View = Callable[..., HttpResponse]


def dashboard_principal(request: HttpRequest) -> Principal | None:
    """The principal of the logged-in user, or None (anonymous, or no dashboard role)."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return None
    subject = f"dashboard:{user.get_username()}"
    try:
        profile = DashboardUser.objects.get(user_id=user.pk)
    except DashboardUser.DoesNotExist:
        return Principal(subject=subject, role=Role.ADMIN) if user.is_superuser else None
    return Principal(subject=subject, role=Role(profile.role), host_id=profile.host_id or None)


def home_of(principal: Principal) -> str:
    """Where a principal lands: hosts on their own view, everyone else on the overview."""
    if principal.role is Role.HOST:
        return f"/dashboard/hosts/{principal.host_id}/"
    return "/dashboard/"


def dashboard_page(*roles: Role) -> Callable[[View], View]:
    """Require a logged-in dashboard user with one of `roles`; the view receives it as `principal`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not two_factor_satisfied(request):  # a session from before its account needed a code
                logout(request)
                return redirect_to_login(request.get_full_path())
            principal = dashboard_principal(request)
            if principal is None:
                return render(request, "dashboard/no_role.html", status=403)
            if principal.role not in roles:
                return redirect(home_of(principal))
            try:
                return view(request, *args, principal=principal, **kwargs)
            except ValidationFailed as exc:  # a bad parameter in the address: say which, never a 500
                return render(request, "dashboard/problem.html", {"problem": exc.message}, status=400)
            except NotFound as exc:  # also another host's view: it does not exist for this host
                return render(request, "dashboard/problem.html", {"problem": exc.message}, status=404)
            except DataError as exc:  # PostgreSQL refuses NUL in text: a bad address, not a server error
                if "NUL" not in str(exc):
                    raise
                problem = "the address may not contain NUL (0x00) characters"
                return render(request, "dashboard/problem.html", {"problem": problem}, status=400)

        return wrapper

    return decorate
