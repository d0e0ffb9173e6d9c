"""Write keys and the audit log."""

from __future__ import annotations

from django.db import models


class ApiKey(models.Model):
    """An ingestion write key. Only a SHA-256 hash of the key is stored; `prefix` identifies it."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "analytics_api_key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditLog(models.Model):
    """Who did what to which resource. Never holds secrets, raw IPs or PII."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=128)
    actor_role = models.CharField(max_length=16, blank=True, default="")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=128, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    ip_prefix = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "analytics_audit_log"
        indexes = [models.Index(fields=["action", "occurred_at"], name="al_action_time")]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target_type}:{self.target_id}"
