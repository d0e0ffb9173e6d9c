"""Who may use the web dashboard, and as what: a role (admin, analyst, host) beside Django's user.

The roles are the API's (analytics/security/roles.py); a host carries the id of the host it is, and
sees only that host's view. A Django superuser without a row here is treated as an admin (the demo's
`admin` login), so the admin site's owner is never locked out of the dashboard.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

# The API's roles (analytics/security/roles.py `Role`; models import nothing above them).
ROLES = ("admin", "analyst", "host")
HOST_ROLE = "host"


class DashboardUser(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard")
    role = models.CharField(max_length=16, choices=[(r, r) for r in ROLES])
    host_id = models.CharField(max_length=64, blank=True, default="", help_text="Only for the host role")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "analytics_dashboard_user"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role=HOST_ROLE) & ~models.Q(host_id=""))
                | (~models.Q(role=HOST_ROLE) & models.Q(host_id="")),
                name="dashboard_user_host_id_iff_host",
            ),
        ]

    def __str__(self) -> str:
        suffix = f" {self.host_id}" if self.host_id else ""
        return f"{self.user} ({self.role}{suffix})"
