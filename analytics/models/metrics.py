"""Business metrics (KPIs, KRIs, KRs) per period and breakdown, and the daily rollups they read.

Everything here is derived from tracked events and rebuilt by `manage.py backfill_metrics`.
A "day" is a business day in settings.ANALYTICS_TIME_ZONE (analytics/metrics/periods.py).
"""

from __future__ import annotations

from django.db import models


class MetricType(models.TextChoices):
    KPI = "kpi"
    KRI = "kri"
    KR = "kr"


class PeriodType(models.TextChoices):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class MetricStatus(models.TextChoices):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NO_DATA = "no_data"
    PARTIAL = "partial"  # a period in progress: shown, never judged (docs/metrics.md, "Status")
    SPARSE = "sparse"  # too few behind the rate to judge it: shown, never judged ("Minimum volume")


class ChangeDirection(models.TextChoices):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    NONE = ""


class BusinessMetric(models.Model):
    """One metric's value for one period and one breakdown (the documented `BusinessMetric`).

    `breakdown_key` is "" for the whole platform, else "<dimension>=<value>" (e.g. "platform=ios");
    `dimensions` holds the same as JSON. `value` is None when the metric has no data for the period
    (an empty denominator) — which is not the same as 0.
    """

    metric_type = models.CharField(max_length=3, choices=MetricType.choices)
    metric_name = models.CharField(max_length=100)
    category = models.CharField(max_length=32, blank=True, default="")
    unit = models.CharField(max_length=16, blank=True, default="")
    value = models.FloatField(null=True, blank=True)
    previous_value = models.FloatField(null=True, blank=True)
    change_percentage = models.FloatField(null=True, blank=True)
    change_direction = models.CharField(max_length=4, choices=ChangeDirection.choices, blank=True, default="")
    target_value = models.FloatField(null=True, blank=True)
    warning_threshold = models.FloatField(null=True, blank=True)
    critical_threshold = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=MetricStatus.choices, default=MetricStatus.NO_DATA)
    is_alert_triggered = models.BooleanField(default=False)
    period_type = models.CharField(max_length=5, choices=PeriodType.choices)
    period_start = models.DateField(help_text="First business day of the period")
    period_end = models.DateField(help_text="Last business day of the period (inclusive)")
    breakdown_key = models.CharField(max_length=200, blank=True, default="")
    dimensions = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_business_metric"
        constraints = [
            models.UniqueConstraint(
                fields=["metric_name", "period_type", "period_start", "breakdown_key"],
                name="bm_unique_period",
            ),
        ]
        indexes = [
            models.Index(fields=["period_type", "period_start"], name="bm_period"),
            models.Index(fields=["is_alert_triggered", "period_start"], name="bm_alerts"),
            # The catalogue and the overview's cards read the newest whole-platform rows: a few thousand
            # among hundreds of thousands of breakdown rows.
            models.Index(
                fields=["metric_name", "period_type", "period_start"],
                name="bm_platform",
                condition=models.Q(breakdown_key=""),
            ),
            # The overview's cache key: when the newest rows were computed (the last metrics run).
            models.Index(fields=["computed_at"], name="bm_computed"),
        ]

    def __str__(self) -> str:
        key = f" [{self.breakdown_key}]" if self.breakdown_key else ""
        return f"{self.metric_name} {self.period_type} {self.period_start}{key} = {self.value}"


class DirtyScope(models.TextChoices):
    ROLLUPS = "rollups"  # the day's tracked events changed: rebuild its rollups, then its metrics
    METRICS = "metrics"  # only metrics that read the day through listings changed: recompute, no rebuild


class MetricDirtyDay(models.Model):
    """A business day whose rollups and metrics (scope `rollups`) or metrics only (scope `metrics`) must
    be recomputed. A day can carry both marks.

    `token` changes on every re-mark, so a recompute deletes only the marks it has seen: a day
    marked again while it runs stays dirty for the next run.
    """

    day = models.DateField()
    scope = models.CharField(max_length=8, choices=DirtyScope.choices, default=DirtyScope.ROLLUPS)
    token = models.CharField(max_length=32)
    marked_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_metric_dirty_day"
        constraints = [models.UniqueConstraint(fields=["day", "scope"], name="mdd_unique_day_scope")]

    def __str__(self) -> str:
        return f"dirty {self.day} ({self.scope})"


class DailyUserActivity(models.Model):
    """Identified users' user-initiated activity (every event but api_request / app_error) per
    business day × platform × city. An active user of a period is a user with a row in it.

    `first_activity` is a join path to the user's retention cohort (`UserFirstActivity`), declared so
    that cohort queries are one SQL join; it adds no column and no constraint."""

    day = models.DateField()
    user_id = models.CharField(max_length=128)
    platform = models.CharField(max_length=16, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    events = models.PositiveIntegerField()
    first_activity = models.ForeignObject(
        "UserFirstActivity",
        on_delete=models.DO_NOTHING,
        from_fields=["user_id"],
        to_fields=["user_id"],
        related_name="+",
        null=True,
    )

    class Meta:
        db_table = "analytics_daily_user_activity"
        constraints = [
            models.UniqueConstraint(fields=["day", "user_id", "platform", "city"], name="dua_unique"),
        ]
        indexes = [models.Index(fields=["user_id", "day"], name="dua_user_day")]

    def __str__(self) -> str:
        return f"activity #{self.pk} {self.day}"  # never the id: logs copy this text


class DailyUserEvent(models.Model):
    """How many times each identified user did each tracked event per business day (any event)."""

    day = models.DateField()
    user_id = models.CharField(max_length=128)
    event_name = models.CharField(max_length=200)
    events = models.PositiveIntegerField()

    class Meta:
        db_table = "analytics_daily_user_event"
        constraints = [
            models.UniqueConstraint(fields=["day", "event_name", "user_id"], name="due_unique"),
        ]
        indexes = [models.Index(fields=["user_id", "day"], name="due_user_day")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_name} ×{self.events} {self.day}"  # never the id


class DailyEventRollup(models.Model):
    """Tracked events (identified or not) per business day × event name × listing × platform × city.

    `amount` sums `revenue_impact`; `seats` sums the `seats` of requests and check-ins;
    `rating_sum` sums review ratings; `server_errors` counts api_request with status ≥ 500.
    """

    day = models.DateField()
    event_name = models.CharField(max_length=200)
    listing_id = models.CharField(max_length=64, blank=True, default="")
    platform = models.CharField(max_length=16, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    events = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    seats = models.BigIntegerField(default=0)
    rating_sum = models.BigIntegerField(default=0)
    server_errors = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_daily_event_rollup"
        constraints = [
            models.UniqueConstraint(fields=["day", "event_name", "listing_id", "platform", "city"], name="der_unique"),
        ]
        indexes = [models.Index(fields=["event_name", "day"], name="der_name_day")]

    def __str__(self) -> str:
        return f"{self.event_name} ×{self.events} {self.day}"


class UserFirstActivity(models.Model):
    """Each identified user's first active business day: the retention cohort."""

    user_id = models.CharField(max_length=128, unique=True)
    first_day = models.DateField()

    class Meta:
        db_table = "analytics_user_first_activity"
        indexes = [models.Index(fields=["first_day"], name="ufa_first_day")]

    def __str__(self) -> str:
        return f"#{self.pk} first active {self.first_day}"  # never the id


class DailyFunnelReach(models.Model):
    """How far the marketplace funnel (`overall_conversion_rate`'s definition) got for each identified
    user from their event_viewed events of one business day: 2 = requested, 3 = paid (or a free
    listing), 4 = checked in — within 14 days of the view, possibly after the day — and the times of
    that best path (a skipped payment has none). Users who only viewed (reach 1) have no row; they are
    the day's event_viewed users in `DailyUserEvent`. The best path over several days is the best of the
    days' best paths (most steps, then the earliest view), so ranges compose from days."""

    day = models.DateField()
    user_id = models.CharField(max_length=128)
    reached = models.PositiveSmallIntegerField()
    viewed_at = models.DateTimeField(null=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "analytics_daily_funnel_reach"
        constraints = [models.UniqueConstraint(fields=["day", "user_id"], name="dfr_unique")]

    def __str__(self) -> str:
        return f"#{self.pk} reached step {self.reached} from {self.day}"  # never the id
