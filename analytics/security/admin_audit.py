"""Changes made in the Django admin are audited like everything else: each of Django's own admin log entries
(additions, changes, deletions) writes an AuditLog row naming the staff account, the model and the object."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save

from analytics.security.audit import audit_record

ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


def _on_admin_log_entry(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    audit_record(
        actor=f"admin:{instance.user.get_username()}",
        actor_role="staff",
        action=ACTIONS.get(instance.action_flag, "admin.other"),
        target_type=instance.content_type.model if instance.content_type_id else "",
        target_id=str(instance.object_id or ""),
        details={"object": instance.object_repr[:200]},
    )


def admin_audit_connect() -> None:
    post_save.connect(_on_admin_log_entry, sender=LogEntry, dispatch_uid="analytics.admin_audit")
