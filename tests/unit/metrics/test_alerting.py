"""Alert evaluation: thresholds open alerts with the right severity, one active alert per key,
auto-resolve on recovery, cooldown after a resolve, and the metrics task running the check."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from analytics import clock
from analytics.errors import Conflict
from analytics.metrics import MetricsProcessor
from analytics.metrics.alerting import alert_acknowledge, alert_resolve, alerts_evaluate
from analytics.metrics.alerting.evaluation import dedup_key
from analytics.metrics.catalogue import metric_cards
from analytics.models import Alert, AlertNotification, BusinessMetric
from analytics.tasks import process_daily_metrics_calculation
from tests.unit.metrics.alert_rows import metric
from tests.unit.metrics.support import NOW, ingest, outcomes, payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]

KEY = "metric:payment_failure_rate:day:"


def at(offset: timedelta) -> None:
    clock.freeze(NOW + offset)


def only_alert() -> Alert:
    alerts = list(Alert.objects.all())
    assert len(alerts) == 1, alerts
    return alerts[0]


def test_red_metric_opens_a_critical_alert_with_the_critical_threshold() -> None:
    metric("payment_failure_rate", "2026-03-19", 25.0)

    result = alerts_evaluate()

    alert = only_alert()
    assert (result.opened, alert.state, alert.severity) == (1, "open", "critical")
    assert (alert.value, alert.threshold, alert.unit) == (25.0, 20.0, "percent")
    assert alert.dedup_key == KEY
    assert (alert.period_type, alert.period_start) == ("day", date(2026, 3, 19))
    assert alert.title == "payment_failure_rate critical: 25% (threshold 20%)"
    assert "lower is better" in alert.message
    assert alert.opened_at == NOW


def test_amber_metric_opens_a_warning_alert_with_the_warning_threshold() -> None:
    metric("payment_success_rate", "2026-03-19", 85.0)  # higher is better: warning 90, critical 80

    alerts_evaluate()

    alert = only_alert()
    assert (alert.severity, alert.value, alert.threshold) == ("warning", 85.0, 90.0)


@pytest.mark.parametrize("value", [5.0, None])
def test_green_or_no_data_opens_nothing(value: float | None) -> None:
    metric("payment_failure_rate", "2026-03-19", value)

    assert alerts_evaluate().opened == 0
    assert not Alert.objects.exists()


def test_only_the_newest_period_with_a_value_is_judged() -> None:
    metric("payment_failure_rate", "2026-03-18", 50.0)
    metric("payment_failure_rate", "2026-03-19", 4.0)  # newer and green: the old red day is history
    metric("payment_failure_rate", "2026-03-20", None)  # today, no payments yet: not judged
    assert alerts_evaluate().opened == 0

    metric("payment_failure_rate", "2026-03-19", 30.0)
    alerts_evaluate()
    assert only_alert().period_start == date(2026, 3, 19)


def test_a_metric_that_settles_late_is_judged_on_its_newest_settled_period() -> None:
    """Yesterday's conversion is low because its viewers have had no time to attend: no alarm on it. The
    conversion rate settles 15 days after a period ends; today is 2026-03-20, so Mar 4 is the newest."""
    metric("overall_conversion_rate", "2026-03-19", 0.0)  # provisional
    metric("overall_conversion_rate", "2026-03-05", 0.5)  # provisional still (ended 15 days ago)
    metric("overall_conversion_rate", "2026-03-04", 12.0)  # settled and healthy
    metric("overall_conversion_rate", "2026-03-03", 1.0)  # settled, older
    assert alerts_evaluate().opened == 0
    metric("overall_conversion_rate", "2026-03-04", 1.0)  # the newest settled period breaches
    alerts_evaluate()
    alert = only_alert()
    assert (alert.severity, alert.period_start, alert.value) == ("critical", date(2026, 3, 4), 1.0)
    # The metric's card (GET /metrics, the overview's KPIs) shows the same settled period.
    (card,) = [c for c in metric_cards() if c.metric_name == "overall_conversion_rate"]
    assert (card.period_start, card.value, card.status) == (date(2026, 3, 4), 1.0, "red")


def test_a_metric_is_judged_on_its_finest_period_only() -> None:
    metric("payment_failure_rate", "2026-03-19", 5.0, period_type="day")
    metric("payment_failure_rate", "2026-03-13", 30.0, period_type="week")  # last week
    metric("churn_rate", "2026-03-13", 70.0, period_type="week")  # churn has no day period

    alerts_evaluate()

    assert list(Alert.objects.values_list("dedup_key", flat=True)) == ["metric:churn_rate:week:"]


def test_repeated_breaches_keep_one_alert_per_key_and_refresh_it() -> None:
    metric("payment_failure_rate", "2026-03-19", 12.0)
    alerts_evaluate()
    at(timedelta(minutes=10))
    second = alerts_evaluate()
    at(timedelta(days=1))  # the next day is complete (the metrics run then stores it judged)
    metric("payment_failure_rate", "2026-03-20", 14.0)
    third = alerts_evaluate()

    alert = only_alert()
    assert (second.opened, second.refreshed, third.opened, third.refreshed) == (0, 1, 0, 1)
    assert (alert.value, alert.period_start, alert.severity) == (14.0, date(2026, 3, 20), "warning")
    assert alert.opened_at == NOW and alert.last_evaluated_at == NOW + timedelta(days=1)


def test_a_rise_to_critical_escalates_the_same_alert() -> None:
    metric("payment_failure_rate", "2026-03-19", 12.0)
    alerts_evaluate()
    metric("payment_failure_rate", "2026-03-19", 40.0)

    result = alerts_evaluate()

    alert = only_alert()
    assert (result.escalated, alert.severity, alert.threshold) == (1, "critical", 20.0)


def test_the_database_refuses_a_second_active_alert_for_a_key() -> None:
    metric("payment_failure_rate", "2026-03-19", 25.0)
    alerts_evaluate()
    duplicate = Alert(
        metric_name="payment_failure_rate",
        severity="warning",
        dedup_key=KEY,
        title="t",
        opened_at=NOW,
        last_evaluated_at=NOW,
        state="acknowledged",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.parametrize("acknowledged", [False, True])
def test_recovery_auto_resolves_the_alert(acknowledged: bool) -> None:
    metric("payment_failure_rate", "2026-03-19", 25.0)
    alerts_evaluate()
    if acknowledged:
        alert_acknowledge(alert_id=only_alert().id, actor="ops-1")
    at(timedelta(days=1))
    metric("payment_failure_rate", "2026-03-20", 3.0)

    result = alerts_evaluate()

    alert = only_alert()
    assert (result.resolved, alert.state, alert.resolved_by) == (1, "resolved", "system")
    assert alert.resolved_at == NOW + timedelta(days=1)
    assert alerts_evaluate().resolved == 0  # already resolved: nothing more to do


def test_a_resolved_key_does_not_reopen_within_the_cooldown(settings: Any) -> None:
    settings.ANALYTICS_ALERT_COOLDOWN_MINUTES = 60
    metric("payment_failure_rate", "2026-03-19", 25.0)
    alerts_evaluate()
    metric("payment_failure_rate", "2026-03-19", 2.0)
    alerts_evaluate()  # auto-resolved at NOW
    metric("payment_failure_rate", "2026-03-19", 30.0)

    at(timedelta(minutes=59))
    during = alerts_evaluate()
    assert (during.opened, during.suppressed) == (0, 1)
    assert Alert.objects.filter(state="open").count() == 0

    at(timedelta(minutes=61))
    after = alerts_evaluate()
    assert after.opened == 1
    assert list(Alert.objects.order_by("id").values_list("state", flat=True)) == ["resolved", "open"]


def test_a_manual_resolve_starts_the_cooldown_too(settings: Any) -> None:
    settings.ANALYTICS_ALERT_COOLDOWN_MINUTES = 30
    metric("payment_failure_rate", "2026-03-19", 25.0)
    alerts_evaluate()
    alert_resolve(alert_id=only_alert().id, actor="ops-1")  # still red, but a person closed it

    at(timedelta(minutes=29))
    assert alerts_evaluate().suppressed == 1
    at(timedelta(minutes=31))
    assert alerts_evaluate().opened == 1


def test_invalid_transitions_are_conflicts() -> None:
    metric("payment_failure_rate", "2026-03-19", 25.0)
    alerts_evaluate()
    alert_id = only_alert().id
    alert_acknowledge(alert_id=alert_id, actor="ops-1")
    with pytest.raises(Conflict):
        alert_acknowledge(alert_id=alert_id, actor="ops-1")
    alert_resolve(alert_id=alert_id, actor="ops-2")
    with pytest.raises(Conflict):
        alert_resolve(alert_id=alert_id, actor="ops-2")
    with pytest.raises(Conflict):
        alert_acknowledge(alert_id=alert_id, actor="ops-2")
    alert = only_alert()
    assert (alert.acknowledged_by, alert.resolved_by) == ("ops-1", "ops-2")


def test_breakdowns_open_alerts_only_when_switched_on(settings: Any) -> None:
    metric("payment_failure_rate", "2026-03-19", 5.0)
    metric("payment_failure_rate", "2026-03-19", 50.0, breakdown="platform=android")
    assert alerts_evaluate().opened == 0

    settings.ANALYTICS_ALERT_BREAKDOWNS = True
    alerts_evaluate()

    alert = only_alert()
    assert alert.dedup_key == "metric:payment_failure_rate:day:platform=android"
    assert alert.dimensions == {"platform": "android"}
    assert "(platform=android)" in alert.title


def test_without_channels_nothing_is_owed_but_the_change_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    metric("payment_failure_rate", "2026-03-19", 25.0)
    with caplog.at_level(logging.INFO, logger="analytics.alerts"):
        alerts_evaluate()
    assert not AlertNotification.objects.exists()
    assert any(r.getMessage().startswith("alert.opened ") and KEY in r.getMessage() for r in caplog.records)


def test_check_alert_thresholds_keeps_reporting_breaches() -> None:
    metric("payment_failure_rate", "2026-03-19", 25.0)
    alerts_evaluate()

    breaches = MetricsProcessor.check_alert_thresholds()

    assert [(b.metric_name, b.status, b.threshold) for b in breaches] == [("payment_failure_rate", "red", 20.0)]


def test_the_metrics_task_runs_the_alert_check_after_each_run() -> None:
    # Yesterday (2026-03-19, business day): 5 completed, 15 failed payments → 75% failure rate (critical ≥ 20).
    ingest(*outcomes("2026-03-19", completed=5, failed=15))

    process_daily_metrics_calculation.delay().get()

    alert = Alert.objects.get(dedup_key=KEY)
    assert (alert.severity, alert.value, alert.state) == ("critical", 75.0, "open")
    row = BusinessMetric.objects.get(
        metric_name="payment_failure_rate",
        period_type="day",
        period_start=date(2026, 3, 19),
        breakdown_key="",
    )
    assert row.is_alert_triggered is True


def test_a_period_in_progress_is_stored_as_partial_and_never_judged() -> None:
    """Catches: judging a period in progress (the demo opened six critical alerts a minute after start —
    two days of December against all of November, today's first payments against a whole day). Yesterday
    breached; today so far is healthy: today is shown as partial and neither judged nor allowed to resolve
    yesterday's alert; the card shows yesterday's complete figure with today's so far beside it."""
    ingest(
        *outcomes("2026-03-19", completed=5, failed=15),
        *(payment("payment_completed", f"2026-03-20T09:0{i}", f"v{i}", 500, order=f"p{i}") for i in (1, 2, 3, 4)),
    )

    process_daily_metrics_calculation.delay().get()

    today = BusinessMetric.objects.get(
        metric_name="payment_failure_rate", period_type="day", period_start=date(2026, 3, 20), breakdown_key=""
    )
    assert (today.value, today.status, today.change_percentage, today.is_alert_triggered) == (
        0.0,
        "partial",
        None,
        False,
    )
    alert = Alert.objects.get(dedup_key=KEY)
    assert (alert.state, alert.period_start, alert.value) == ("open", date(2026, 3, 19), 75.0)
    (card,) = [c for c in metric_cards() if c.metric_name == "payment_failure_rate"]
    assert (card.period_start, card.value, card.status) == (date(2026, 3, 19), 75.0, "red")
    assert card.so_far is not None and (card.so_far.period_start, card.so_far.value) == (date(2026, 3, 20), 0.0)


def test_a_key_longer_than_the_column_is_shortened_and_stays_unique() -> None:
    def key(breakdown: str) -> str:
        return dedup_key(BusinessMetric(metric_name="m" * 100, period_type="day", breakdown_key=breakdown))

    first, second = key("city=" + "a" * 195), key("city=" + "a" * 194 + "b")

    assert len(first) <= 255 and len(second) <= 255 and first != second
    assert key("city=x") == "metric:" + "m" * 100 + ":day:city=x"  # short keys stay readable
