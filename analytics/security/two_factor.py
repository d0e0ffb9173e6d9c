"""TOTP two-factor authentication for Django logins (docs/operations.md, "Two-factor authentication"),
with django-otp's TOTP devices (RFC 6238: six digits, 30-second steps, one step of tolerance, each code
accepted once, failed codes throttled by the device).

Who must use it: staff and superusers (everyone who can open the admin site) and dashboard users with the
admin role. Analysts and hosts may enrol; once enrolled, their logins ask for a code too. API tokens
(`issue_token`) are not Django logins and are unaffected. An operator enrols an account with
`manage.py totp_enrol --username U`, which prints the secret and its otpauth URI for an authenticator app;
enrolling again replaces the account's device (a lost phone)."""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from analytics.errors import NotFound
from analytics.models import DashboardUser
from analytics.security.audit import audit_record
from analytics.security.roles import Role

DEVICE_NAME = "authenticator"


@dataclass(frozen=True)
class Enrolment:
    username: str
    secret: str  # base32, as authenticator apps take it
    uri: str  # otpauth://totp/…


def requires_two_factor(user: Any) -> bool:
    """Whether this account may only log in with a code: staff, superusers and dashboard admins."""
    if user.is_staff or user.is_superuser:
        return True
    return DashboardUser.objects.filter(user_id=user.pk, role=Role.ADMIN.value).exists()


def totp_device(user: Any) -> TOTPDevice | None:
    """The account's confirmed TOTP device, if it has enrolled."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("-id").first()


def two_factor_satisfied(request: Any) -> bool:
    """Whether the session's user has passed two-factor authentication, or does not need it (and has not
    enrolled). Needs django-otp's middleware (`request.user.is_verified`)."""
    user = request.user
    if not user.is_authenticated:
        return False
    if getattr(user, "is_verified", None) is not None and user.is_verified():
        return True
    return not requires_two_factor(user) and totp_device(user) is None


def totp_enrol(username: str, *, actor: str = "cli:totp_enrol") -> Enrolment:
    """Give `username` a new TOTP device (replacing any earlier one) and return its secret and URI. The
    audit log records who enrolled whom (never the secret): a new device is a new way into the account."""
    users = get_user_model()
    try:
        user = users.objects.get(username=username)
    except users.DoesNotExist:
        raise NotFound(f"no user {username!r}", code="user_not_found") from None
    with transaction.atomic():
        replaced = TOTPDevice.objects.filter(user=user).delete()[0]
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
        audit_record(
            actor=actor,
            action="totp.enrol",
            target_type="operator",
            target_id=username,
            details={"replaced_devices": replaced},
        )
    return Enrolment(username=username, secret=b32encode(device.bin_key).decode(), uri=device.config_url)


def totp_code(device: TOTPDevice, at: float | None = None) -> str:
    """The device's current code (or the code at the Unix time `at`), zero-padded: what the account's
    authenticator app shows."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is not None:
        totp.time = at
    return f"{totp.token():0{device.digits}d}"


def mark_verified(session: Any, device: TOTPDevice) -> None:
    """Record in a session that its user passed two-factor authentication with `device` (what django-otp
    does at login; tests that log in without the form use it)."""
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
