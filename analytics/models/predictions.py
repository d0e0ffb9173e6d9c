"""Predictions: the model registry (every trained version of every prediction model) and what the
models say about people, listings and the future (docs/predictions.md).

`PredictionModel` is the one source of every model's version and freshness: at most one version per
model name is `active` (a partial unique constraint), and a version is promoted only after its stored
artefact loads back and its fresh evaluation is not worse than the active version's by more than the
margin. Artefacts live in the row (`artefact`, checked against `artefact_sha256` before loading), so
every worker on every machine loads the same bytes from the database.
"""

from __future__ import annotations

from django.db import models


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate"  # trained, not (yet) promoted
    ACTIVE = "active"  # the version that scores
    RETIRED = "retired"  # was active, replaced by a newer version
    REJECTED = "rejected"  # not promoted: its artefact failed to load or it evaluated worse


class PredictionModel(models.Model):
    name = models.CharField(max_length=32, help_text="churn, conversion, attendance, revenue_forecast, …")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE)
    algorithm = models.CharField(max_length=200)
    trained_at = models.DateTimeField()
    training_start = models.DateTimeField(null=True, blank=True, help_text="First instant of training data")
    training_end = models.DateTimeField(null=True, blank=True, help_text="Training data is everything before this")
    evaluated_on = models.DateTimeField(null=True, blank=True, help_text="Cutoff of the fresh (later) evaluation")
    features = models.JSONField(default=list)
    training_rows = models.PositiveIntegerField(default=0)
    evaluation = models.JSONField(default=dict, help_text="Figures of the fresh evaluation (and the baseline's)")
    primary_metric = models.CharField(max_length=32, blank=True, default="")
    artefact = models.BinaryField(null=True, blank=True, editable=False)
    artefact_sha256 = models.CharField(max_length=64, blank=True, default="")
    artefact_bytes = models.PositiveIntegerField(default=0)
    promoted_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(blank=True, default="", help_text="Why it was promoted or rejected")

    class Meta:
        db_table = "analytics_prediction_model"
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="pm_name_version"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(status=ModelStatus.ACTIVE), name="pm_one_active_per_name"
            ),
        ]
        indexes = [models.Index(fields=["name", "status"], name="pm_name_status")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.status})"


class UserPrediction(models.Model):
    """What the active churn and conversion models said about one user on one business day (the newest
    scoring of that day wins). The history feeds the KRI `high_churn_probability_rate`."""

    user_id = models.CharField(max_length=128)
    scored_on = models.DateField(help_text="Business day of the scoring")
    scored_at = models.DateTimeField()
    churn_risk = models.FloatField(null=True, blank=True, help_text="P(no user-initiated activity in 30 days)")
    conversion_probability = models.FloatField(null=True, blank=True, help_text="P(a check-in in 30 days)")
    churn_model_version = models.PositiveIntegerField(null=True, blank=True)
    conversion_model_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "analytics_user_prediction"
        constraints = [models.UniqueConstraint(fields=["user_id", "scored_on"], name="up_user_day")]
        indexes = [models.Index(fields=["scored_on", "churn_risk"], name="up_day_risk")]

    def __str__(self) -> str:
        return f"prediction #{self.pk} {self.scored_on}"  # never the id: the admin log copies this text


class ListingAttendanceForecast(models.Model):
    """The newest attendance forecast of an upcoming listing (one row per listing, replaced at every
    scoring): expected seats checked in with an 80% interval, and what it was made of."""

    listing_id = models.CharField(max_length=64, unique=True)
    computed_at = models.DateTimeField()
    lead_days = models.FloatField(help_text="Days from the forecast to the listing's start")
    expected_attendance = models.FloatField(help_text="Expected seats checked in")
    low = models.FloatField(help_text="10th percentile")
    high = models.FloatField(help_text="90th percentile")
    confirmed_seats = models.PositiveIntegerField()
    pending_seats = models.PositiveIntegerField()
    expected_further_requests = models.FloatField()
    baseline = models.FloatField(help_text="Requested seats so far × the platform's show-up rate")
    model_version = models.PositiveIntegerField()

    class Meta:
        db_table = "analytics_listing_attendance_forecast"

    def __str__(self) -> str:
        return f"forecast {self.listing_id}"


class RevenueForecast(models.Model):
    """One day of the newest daily net revenue forecast of the platform (`scope` "") or of one host
    (`scope` = host id); the rows of a scope are replaced together when it is forecast again."""

    scope = models.CharField(max_length=64, help_text="'' for the whole platform, else the host id")
    day = models.DateField(help_text="Business day forecast")
    expected = models.FloatField()
    low = models.FloatField(help_text="10th percentile")
    high = models.FloatField(help_text="90th percentile")
    method = models.CharField(max_length=64)
    computed_at = models.DateTimeField()
    model_version = models.PositiveIntegerField()

    class Meta:
        db_table = "analytics_revenue_forecast"
        constraints = [models.UniqueConstraint(fields=["scope", "day"], name="rf_scope_day")]

    def __str__(self) -> str:
        return f"revenue forecast {self.scope or 'platform'} {self.day}"


class DetectedAnomaly(models.Model):
    """A business day on which a watched series broke from its pattern (analytics/intelligence/anomalies):
    what was expected, what happened, how surprising it was and which breakdown moved most."""

    metric_name = models.CharField(max_length=100)
    day = models.DateField(help_text="Business day")
    expected_value = models.FloatField()
    actual_value = models.FloatField()
    z_score = models.FloatField()
    direction = models.CharField(max_length=4, help_text="up | down")
    severity = models.CharField(max_length=8, help_text="warning | critical")
    harmful = models.BooleanField(help_text="The direction is bad news for this metric")
    breakdown = models.JSONField(default=dict, blank=True)
    detected_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_detected_anomaly"
        constraints = [models.UniqueConstraint(fields=["metric_name", "day"], name="da_metric_day")]
        indexes = [models.Index(fields=["day"], name="da_day")]

    def __str__(self) -> str:
        return f"anomaly {self.metric_name} {self.day}"
