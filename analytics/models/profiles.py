"""Behaviour profiles of users and the personas (segments) they belong to.

Both are derived from tracked events and rebuilt by the behaviour and segmentation tasks; neither holds
raw text or contact data — only aggregates of behaviour.
"""

from __future__ import annotations

from django.db import models


class UserPersona(models.Model):
    """A segment found by one clustering run, named and described from its centre (the documented
    `UserPersona`). A new run replaces the current personas (`is_current`); older runs are kept for
    comparison until the retention purge."""

    run_id = models.CharField(max_length=32, help_text="The clustering run that found it")
    name = models.CharField(max_length=64)
    description = models.TextField()
    behavior_pattern = models.JSONField(
        default=dict, help_text="The centre: each feature's value and its z-score against all users"
    )
    size = models.PositiveIntegerField()
    confidence = models.FloatField(help_text="Mean membership probability of its members (0-1)")
    is_current = models.BooleanField(default=True)
    model_version = models.CharField(max_length=32)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_user_persona"
        constraints = [models.UniqueConstraint(fields=["run_id", "name"], name="persona_unique_name_per_run")]
        indexes = [models.Index(fields=["is_current", "size"], name="persona_current")]

    def __str__(self) -> str:
        return f"{self.name} ({self.size})"


class UserBehaviorProfile(models.Model):
    """One user's behaviour analysis (the documented `UserBehaviorProfile`), refreshed incrementally."""

    user_id = models.CharField(max_length=128, unique=True)
    engagement_score = models.FloatField(help_text="P(a browsing session in the next 30 days), 0-1")
    engagement_trend = models.CharField(max_length=16)
    activity_patterns = models.JSONField(default=dict)
    preferences = models.JSONField(default=dict)
    risk_factors = models.JSONField(default=list)
    risk_evidence = models.JSONField(default=dict)
    persona_features = models.JSONField(
        null=True, blank=True, help_text="The segmentation input, or null when there is too little behaviour"
    )
    primary_persona = models.ForeignKey(
        UserPersona, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    persona_strength = models.FloatField(null=True, blank=True, help_text="Membership probability, 0-1")
    churn_risk_score = models.FloatField(
        null=True, blank=True, help_text="P(no user-initiated activity in the next 30 days), from the churn model"
    )
    conversion_probability = models.FloatField(
        null=True, blank=True, help_text="P(a check-in in the next 30 days), from the conversion model"
    )
    predicted_at = models.DateTimeField(null=True, blank=True, help_text="When the two predictions were made")
    as_of = models.DateTimeField(help_text="The behaviour read is everything before this instant")
    lookback_days = models.PositiveSmallIntegerField()
    model_version = models.CharField(max_length=32)
    last_analysis_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_user_behavior_profile"
        indexes = [
            models.Index(fields=["last_analysis_at"], name="ubp_analysed"),
            models.Index(fields=["primary_persona"], name="ubp_persona"),
        ]

    def __str__(self) -> str:
        return f"profile #{self.pk}"  # never the id: the admin log copies this text
