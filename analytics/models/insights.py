"""AI insights: what the data says Loopin or a host should look at or do, each citing its evidence.

An `AIInsight` is written by the insights engine (analytics/intelligence/insights) and moved by a person:
pending → validated or dismissed, validated → done; nothing else (a `Conflict`, 409). At most one insight
per `dedup_key` is open (pending or validated) — a partial unique constraint — so a generation that finds
the same thing again refreshes its figures instead of repeating it. `current` says whether the newest
generation still found it; an insight no longer supported by the data keeps its row and status but leaves
the default lists.
"""

from __future__ import annotations

from django.db import models


class InsightStatus(models.TextChoices):
    PENDING = "pending"  # new: nobody has looked at it yet
    VALIDATED = "validated"  # a person agrees it is right and worth acting on
    DISMISSED = "dismissed"  # a person judged it wrong or not worth acting on
    DONE = "done"  # the suggested action was taken


OPEN_STATUSES = (InsightStatus.PENDING, InsightStatus.VALIDATED)


class InsightPriority(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


PRIORITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


class InsightTarget(models.TextChoices):
    PLATFORM = "platform"
    HOST = "host"
    LISTING = "listing"
    COHORT = "cohort"
    USER = "user"  # about one person: admins only


class AIInsight(models.Model):
    insight_type = models.CharField(max_length=40, help_text="churn_risk_cohort, anomaly, revenue_outlook, …")
    title = models.CharField(max_length=200)
    description = models.TextField()
    narrative = models.TextField(blank=True, default="", help_text="Written from `evidence` only")
    narrative_source = models.CharField(max_length=16, blank=True, default="", help_text="template | openai")
    confidence_score = models.FloatField(help_text="0–1")
    priority = models.CharField(max_length=8, choices=InsightPriority.choices)
    priority_rank = models.PositiveSmallIntegerField(help_text="critical 4 … low 1, for ordering")
    is_actionable = models.BooleanField(default=True)
    suggested_actions = models.JSONField(default=list, blank=True)
    target_type = models.CharField(max_length=8, choices=InsightTarget.choices)
    target_id = models.CharField(max_length=128, blank=True, default="")
    host_id = models.CharField(max_length=64, blank=True, default="", help_text="The host it concerns, if any")
    evidence = models.JSONField(default=dict, blank=True, help_text="Figures, comparison group and its size")
    model_name = models.CharField(max_length=64, blank=True, default="")
    model_version = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=10, choices=InsightStatus.choices, default=InsightStatus.PENDING)
    dedup_key = models.CharField(max_length=255)
    current = models.BooleanField(default=True, help_text="The newest generation still found it")
    created_at = models.DateTimeField()
    refreshed_at = models.DateTimeField(help_text="Last generation that found it")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        db_table = "analytics_ai_insight"
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=models.Q(status__in=["pending", "validated"]),
                name="insight_one_open_per_key",
            ),
            models.CheckConstraint(
                condition=models.Q(confidence_score__gte=0) & models.Q(confidence_score__lte=1),
                name="insight_confidence_0_1",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "current", "priority_rank", "created_at"], name="insight_open_rank"),
            models.Index(fields=["host_id", "status"], name="insight_host"),
            models.Index(fields=["target_type", "target_id"], name="insight_target"),
            models.Index(fields=["dedup_key", "status_changed_at"], name="insight_key_closed"),
        ]

    def __str__(self) -> str:
        return f"{self.priority} {self.insight_type} [{self.status}]"  # never a person's id
