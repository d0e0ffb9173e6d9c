"""The audit log: one write path for every security-relevant action."""

from __future__ import annotations

from typing import Any

from analytics import clock
from analytics.models import AuditLog


def audit_record(
    *,
    actor: str,
    action: str,
    actor_role: str = "",
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
    ip_prefix: str = "",
) -> AuditLog:
    """Record who did what. Callers pass no secrets, raw IPs or PII."""
    return AuditLog.objects.create(
        occurred_at=clock.now(),
        actor=actor[:128],
        actor_role=actor_role,
        action=action,
        target_type=target_type,
        target_id=target_id[:128],
        details=details or {},
        ip_prefix=ip_prefix,
    )
