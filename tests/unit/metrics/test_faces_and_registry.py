"""The documented faces (MetricsProcessor, calculators, the task), the registry and docs/metrics.md."""

from __future__ import annotations

import pytest

from analytics.errors import NotFound
from analytics.metrics import KPICalculator, KRCalculator, KRICalculator, MetricsProcessor, metric_list
from analytics.metrics.docs import DOC_PATH, render_metrics_doc
from analytics.metrics.registry import Kind, Unit
from analytics.models import MetricDirtyDay
from analytics.tasks import process_daily_metrics_calculation
from analytics.tasks.schedule import beat_schedule
from tests.unit.metrics.support import ev, ingest, outcomes, value

DOCUMENTED = (
    "daily_active_users",
    "monthly_active_users",
    "retention_rate_1d",
    "retention_rate_7d",
    "retention_rate_30d",
    "overall_conversion_rate",
    "avg_session_length_minutes",
    "revenue_per_user",
    "payment_failure_rate",
    "otp_verification_failure_rate",
    "host_cancellation_rate",
    "high_churn_probability_rate",
    "monthly_event_creation_growth",
    "ticket_purchase_success_ratio",
    "user_verification_completion_rate",
    "weekly_active_users",
    "stickiness",
    "median_session_length_minutes",
    "sessions_per_user",
    "page_views",
    "revenue_per_paying_user",
    "event_success_rate",
    "sell_out_rate",
    "payment_success_rate",
    "average_rating",
    "refund_rate",
    "api_error_rate",
    "api_p95_latency_ms",
    "app_error_rate_per_session",
    "churn_rate",
    "chargeback_rate",
    "listing_cancellation_rate",
    "host_dropout_rate",
    "mau_growth",
    "revenue_growth",
    "profile_completion_rate",
    "average_listing_rating",
)


def test_every_documented_metric_is_registered_once_and_fully_declared() -> None:
    definitions = {d.name: d for d in metric_list()}
    assert set(DOCUMENTED) <= set(definitions)
    for d in definitions.values():
        assert d.question.endswith("?") and d.definition and d.periods, d.name
        assert d.kind is not Kind.KR or d.target is not None, d.name
        assert d.unit is not Unit.PERCENT or "× 100" in d.definition or "growth" in d.name, d.name


def test_docs_metrics_md_is_generated_from_the_registry() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_metrics_doc(), (
        "docs/metrics.md is out of date: run `python manage.py metrics_docs`"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("now")
def test_task_processor_thresholds_and_calculators() -> None:
    ingest(*outcomes("2026-03-19", completed=10, failed=10), ev("page_view", "2026-03-19T10:00", user="v3", path="/"))
    assert MetricDirtyDay.objects.count() == 1
    result = process_daily_metrics_calculation.delay("2026-03-19").get()
    assert result["days_rebuilt"] == 1 and not MetricDirtyDay.objects.exists()
    assert value("payment_failure_rate", "2026-03-19") == 50.0

    breaches = {(b.metric_name, b.period_type): b for b in MetricsProcessor.check_alert_thresholds()}
    failure = breaches[("payment_failure_rate", "day")]
    assert (failure.status, failure.value, failure.threshold) == ("red", 50.0, 20.0)
    assert ("daily_active_users", "day") not in breaches

    assert KPICalculator().daily_active_users(date="2026-03-19") == 21.0
    assert KPICalculator().calculate("daily_active_users", "2026-03-19", breakdown="platform") == {"unknown": 21.0}
    assert KRICalculator().calculate_payment_failure_rate("2026-03-19") == 50.0
    assert KRCalculator().ticket_purchase_success_ratio("2026-03-19") is None  # no payment_initiated
    with pytest.raises(NotFound):
        KPICalculator().calculate("payment_failure_rate")
    with pytest.raises(AttributeError):
        KPICalculator().not_a_metric  # noqa: B018
    assert MetricsProcessor.process_daily_metrics().days_rebuilt == 0  # nothing dirty


def test_the_beat_schedule_runs_the_metrics_hourly() -> None:
    entry = beat_schedule()["metrics-hourly"]
    assert entry["task"] == process_daily_metrics_calculation.name and entry["schedule"] == 3600.0
