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


class TaskRun(models.Model):
    """The last run of each recorded job (the metrics run, …): when it started and finished, and how.

    Readers key caches on `finished_runs` of the metrics run — a generation that grows when a run
    finishes, whatever the clock says: a cache filled while a run was writing is dropped when that run
    finishes."""

    name = models.CharField(max_length=100, unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True, help_text="Of the last run that finished")
    succeeded = models.BooleanField(null=True, help_text="Whether the last finished run succeeded")
    error = models.CharField(max_length=300, blank=True, default="")
    finished_runs = models.PositiveBigIntegerField(default=0, help_text="Runs finished so far (a generation)")
    failed_runs = models.PositiveBigIntegerField(default=0, help_text="Of those, runs that failed")
    retries = models.PositiveBigIntegerField(default=0, help_text="Retries Celery scheduled for it")

    class Meta:
        db_table = "analytics_task_run"

    def __str__(self) -> str:
        return f"{self.name} @ {self.started_at:%Y-%m-%d %H:%M:%S}"


class ScheduleSlot(models.Model):
    """The last slot of each beat entry a worker ran (analytics/operations/schedule_slots.py): with two beat
    processes by mistake, a message whose slot is already taken is skipped, and counted here."""

    entry = models.CharField(max_length=100, unique=True, help_text="The beat entry's name")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When beat sent the message that ran last")
    message_id = models.CharField(max_length=64, blank=True, default="", help_text="That message's task id")
    runs = models.PositiveBigIntegerField(default=0, help_text="Slots claimed (messages run)")
    skipped = models.PositiveBigIntegerField(default=0, help_text="Messages skipped: their slot was taken")

    class Meta:
        db_table = "analytics_schedule_slot"

    def __str__(self) -> str:
        return f"{self.entry} @ {self.claimed_at}"


class RetentionPurge(models.Model):
    """One run of the retention task (`cleanup_old_analytics_data`): the horizons it applied and what it
    removed. The latest `frozen_before` is the high-water mark of purged days: no rollup or metric of a
    business day before it is ever recomputed (its events are gone), and ingestion refuses events there."""

    ran_at = models.DateTimeField()
    frozen_before = models.DateField(help_text="The first business day whose tracked events are kept")
    removed = models.JSONField(default=dict, help_text="table → rows removed by this run")
    complete = models.BooleanField(help_text="False when the run stopped at its time budget (the next resumes)")

    class Meta:
        db_table = "analytics_retention_purge"
        indexes = [models.Index(fields=["-frozen_before"], name="rp_frozen")]

    def __str__(self) -> str:
        return f"retention purge @ {self.ran_at:%Y-%m-%d %H:%M} (kept from {self.frozen_before})"
