"""The admin application with the two-factor admin site as `admin.site` (INSTALLED_APPS names this
instead of django.contrib.admin). Only a dotted path here: nothing may import models this early."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class TwoFactorAdminConfig(AdminConfig):
    default_site = "analytics.security.admin_site.TwoFactorAdminSite"
