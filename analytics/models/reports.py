"""Which digest went out for which period: a period's report is sent once, whatever the retries."""

from __future__ import annotations

from django.db import models


class ReportDelivery(models.Model):
    period_type = models.CharField(max_length=8, help_text="daily, weekly or monthly")
    period_start = models.DateField(help_text="First business day of the reported period")
    period_end = models.DateField()
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_report_delivery"
        constraints = [
            models.UniqueConstraint(fields=["period_type", "period_start"], name="report_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.period_type} report of {self.period_start}"
