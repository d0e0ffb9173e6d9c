"""The audit log: one write path for every security-relevant action (docs/operations.md, "Audit log").

A platform user never appears in it by id: `person_ref` is a keyed HMAC of the id (the key derived from
SECRET_KEY), the same for the same person, so an auditor can see that one person's data was read five
times without the log naming them. The requester's IP prefix is taken from the request being served
(`current_ip_prefix`, set by the API's edge for every request, the dashboard's included)."""

from __future__ import annotations

import hashlib
import hmac
from contextvars import ContextVar
from typing import Any

from django.conf import settings

from analytics import clock
from analytics.models import AuditLog

current_ip_prefix: ContextVar[str] = ContextVar("current_ip_prefix", default="")


def person_ref(user_id: str) -> str:
    """A platform user as the audit log names them: `person:` + a keyed HMAC-SHA256 of the id (24 hex)."""
    key = hashlib.sha256(b"loopin-audit-person:" + settings.SECRET_KEY.encode()).digest()
    return "person:" + hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:24]


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
    """Record who did what. Callers pass no secrets, raw IPs or PII (a person's id goes through
    `person_ref`)."""
    return AuditLog.objects.create(
        occurred_at=clock.now(),
        actor=actor[:128],
        actor_role=actor_role,
        action=action,
        target_type=target_type,
        target_id=target_id[:128],
        details=details or {},
        ip_prefix=ip_prefix or current_ip_prefix.get(),
    )
