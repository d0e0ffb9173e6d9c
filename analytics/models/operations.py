"""Operational state of the service itself."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by each Celery worker every few seconds; /health reads it."""

    hostname = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        db_table = "analytics_worker_heartbeat"

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.last_seen:%H:%M:%S}"
