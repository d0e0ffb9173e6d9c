"""Dashboard accounts: a Django user plus its role (and host id), created in one transaction."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q

from analytics import clock
from analytics.errors import Conflict, ValidationFailed
from analytics.models import DashboardUser, EventListing
from analytics.security.roles import Role

PASSWORD_BYTES = 18  # 24 URL-safe characters


def dashboard_user_create(*, username: str, role: str, host_id: str | None = None) -> str:
    """Create a dashboard login with `role` (a host needs its host id, no other role may have one) and
    return its generated password. An existing username is a `Conflict`; nothing is half-written."""
    username = username.strip()
    if not username or len(username) > 150:
        raise ValidationFailed("username is 1…150 characters", code="invalid_username")
    try:
        chosen = Role(role)
    except ValueError:
        raise ValidationFailed(f"role is one of {', '.join(r.value for r in Role)}", code="invalid_role") from None
    host = (host_id or "").strip()
    if chosen is Role.HOST and not host:
        raise ValidationFailed("a host account needs --host-id", code="host_id_required")
    if chosen is not Role.HOST and host:
        raise ValidationFailed("only a host account has a host id", code="host_id_not_allowed")
    if len(host) > 64:
        raise ValidationFailed("host id is at most 64 characters", code="invalid_host_id")
    users = get_user_model()
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    with transaction.atomic():
        if users.objects.filter(username=username).exists():
            raise Conflict(f"user {username!r} exists", code="user_exists")
        user = users.objects.create_user(username=username, password=password)
        DashboardUser.objects.create(user=user, role=chosen.value, host_id=host)
    return password


def busiest_host_id() -> str | None:
    """The host with the most upcoming listings (then the most listings): the demo's host login."""
    row = (
        EventListing.objects.exclude(host_id="")
        .values("host_id")
        .annotate(upcoming=Count("id", filter=Q(starts_at__gte=clock.now())), listings=Count("id"))
        .order_by("-upcoming", "-listings", "host_id")
        .first()
    )
    return None if row is None else str(row["host_id"])
