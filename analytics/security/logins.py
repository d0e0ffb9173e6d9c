"""Django logins — the admin site's and the dashboard's — with lockout and two-factor authentication
(docs/operations.md, "Logins").

Failed logins (a wrong password, an unknown user, a wrong code) are counted per account and per IP prefix
on the rate limiter's store (Redis in production, shared by every process): five failures for one account,
then one try every five minutes; thirty from one network, then one a minute. While either budget is spent,
a login is refused before the password is even checked — so the right password does not get through a
lockout, and an unknown username is counted exactly like a known one (nobody learns which exist). The
failure that spends a budget opens a security alert. Every login POST is also limited per network at the
edge (analytics/api/rate_limiting.py, family "login").

After the password, an account with a TOTP device must give its current code; staff, superusers and
dashboard admins must have one (analytics/security/two_factor.py)."""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from analytics import clock
from analytics.privacy.network import client_ip_prefix
from analytics.security.alerts import security_alert
from analytics.security.rate_limits import Rate, Store, limiter_store
from analytics.security.two_factor import requires_two_factor, totp_device

ACCOUNT_FAILURES = Rate(1 / 300, 5)  # five failed logins for one account, then one try every five minutes
NETWORK_FAILURES = Rate(1 / 60, 30)  # thirty from one IP prefix, then one a minute
logger = logging.getLogger(__name__)


def request_ip_prefix(request: Any) -> str:
    """The client's IP prefix as the audit log and the rate limits see it."""
    if request is None:
        return ""
    return client_ip_prefix(
        peer=request.META.get("REMOTE_ADDR"),
        headers=request.headers,
        trusted_proxies=settings.ANALYTICS_TRUSTED_PROXIES,
    )


class LoginGuard:
    """The failed-login budgets of one account and one network."""

    def __init__(self, prefix: str, store: Store | None = None) -> None:
        self.prefix = prefix
        self.store = store or limiter_store()

    @staticmethod
    def _account_key(username: str) -> str:
        return "loginfail:acct:" + hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:24]

    def refusal(self, username: str) -> str | None:
        """Why a login for `username` from this network is refused now, or None."""
        now = clock.now().timestamp()
        account = self.store.hit(self._account_key(username), ACCOUNT_FAILURES, now, consume=False)
        if not account.allowed:
            minutes = max(1, math.ceil(account.retry_after / 60))
            return f"Too many failed logins for this account: try again in {minutes} minute{'s' * (minutes > 1)}."
        network = self.store.hit(f"loginfail:net:{self.prefix}", NETWORK_FAILURES, now, consume=False)
        if not network.allowed:
            seconds = max(1, math.ceil(network.retry_after))
            return f"Too many failed logins from this network: try again in {seconds} seconds."
        return None

    def failed(self, username: str) -> None:
        """Count one failed login; the failure that spends a budget opens a security alert."""
        now = clock.now().timestamp()
        spent = []
        for key, rate, kind, place in (
            (self._account_key(username), ACCOUNT_FAILURES, "login_lockout", username.strip()[:100]),
            (f"loginfail:net:{self.prefix}", NETWORK_FAILURES, "login_failures", self.prefix),
        ):
            self.store.hit(key, rate, now)
            if not self.store.hit(key, rate, now, consume=False).allowed:
                spent.append((kind, place, rate))
        for kind, place, rate in spent:
            logger.warning("login.%s place=%s", kind, place)
            try:
                security_alert(kind, place, burst=rate.burst, minutes=round(rate.interval / 60))
            except Exception as exc:  # the refusal stands whether or not the alert could be written
                logger.warning("login.alert_failed kind=%s error=%s", kind, type(exc).__name__)


class TwoFactorLoginMixin(forms.Form):
    """Lockout and the TOTP code on top of one of Django's authentication forms."""

    otp_token = forms.CharField(
        label="Code",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
        help_text="The six-digit code of your authenticator app (accounts with two-factor authentication).",
    )
    request: Any

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        guard = LoginGuard(request_ip_prefix(self.request))
        refusal = guard.refusal(username)
        if refusal:
            raise ValidationError(refusal, code="locked_out")
        try:
            cleaned = super().clean() or self.cleaned_data  # the password (and, for the admin site, staff)
        except ValidationError:
            guard.failed(username)
            raise
        user = self.get_user()  # type: ignore[attr-defined]  # AuthenticationForm's, after this mixin in the MRO
        if user is None:  # a field was left empty: the form already says which
            return cleaned
        device = totp_device(user)
        if device is None:
            if requires_two_factor(user):
                raise ValidationError(
                    "This account must use two-factor authentication and has no authenticator yet: an operator "
                    "enrols it with `manage.py totp_enrol --username …`.",
                    code="totp_enrolment_required",
                )
            return cleaned
        token = "".join(str(cleaned.get("otp_token") or "").split())
        if not token:
            raise ValidationError("Enter the six-digit code from your authenticator app.", code="totp_required")
        if not device.verify_token(token):
            guard.failed(username)
            raise ValidationError("Wrong or expired code.", code="totp_invalid")
        user.otp_device = device  # django-otp records it in the session when the login completes
        return cleaned


class LoginForm(TwoFactorLoginMixin, AuthenticationForm):
    """The dashboard's login form."""


class AdminLoginForm(TwoFactorLoginMixin, AdminAuthenticationForm):
    """The admin site's login form (staff only, as Django's)."""
