"""The admin site with two-factor authentication: Django's, except that a staff session counts only once
its user has given a TOTP code at login (analytics/security/logins.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from analytics.security.logins import AdminLoginForm
from analytics.security.two_factor import two_factor_satisfied


class TwoFactorAdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def has_permission(self, request: Any) -> bool:
        return super().has_permission(request) and two_factor_satisfied(request)
