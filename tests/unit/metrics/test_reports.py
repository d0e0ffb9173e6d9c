"""Digests (docs/reports.md): what moved against the median of four comparable periods, judged only with
enough events behind it; sent once per period through a real SMTP exchange; printed in the terminal."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from analytics import clock
from analytics.intelligence.insights.drafts import InsightDraft
from analytics.intelligence.insights.store import insights_store
from analytics.metrics.periods import Period
from analytics.metrics.reports.delivery import digest_send, digest_send_due
from analytics.metrics.reports.digest import comparable_periods, digest_build, movers, reported_period
from analytics.metrics.reports.render import digest_html, digest_markdown
from analytics.models import AIInsight, DailyEventRollup, ReportDelivery
from tests.support.smtp_server import SmtpServer
from tests.unit.metrics.alert_rows import metric

pytestmark = pytest.mark.django_db

# Wednesday 2026-03-11, 09:00 in Kolkata (03:30 UTC): the daily digest reports Tuesday 2026-03-10.
NOW = datetime.fromisoformat("2026-03-11T03:30:00+00:00")
TUESDAY = date(2026, 3, 10)
RECIPIENTS = ["ops@loopin.test"]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def _events(day: date, name: str, count: int) -> None:
    DailyEventRollup.objects.create(day=day, event_name=name, events=count)


def _weekday_history(name: str, values: list[float], current: float) -> None:
    """`current` on Tuesday 10 March, `values` on the four Tuesdays before it (newest first)."""
    metric(name, TUESDAY.isoformat(), current)
    for weeks_back, value in enumerate(values, start=1):
        metric(name, date.fromordinal(TUESDAY.toordinal() - 7 * weeks_back).isoformat(), value)


def test_the_reported_period_is_the_newest_complete_one() -> None:
    assert reported_period("daily", date(2026, 3, 11)) == Period.containing("day", TUESDAY)
    assert reported_period("weekly", date(2026, 3, 11)) == Period(date(2026, 3, 2), "week", date(2026, 3, 8))
    assert reported_period("monthly", date(2026, 3, 11)) == Period(date(2026, 2, 1), "month", date(2026, 2, 28))
    days = [p.start for p in comparable_periods(Period.containing("day", TUESDAY))]
    assert days == [date(2026, 3, 3), date(2026, 2, 24), date(2026, 2, 17), date(2026, 2, 10)]


def test_movers_are_changes_of_25_percent_against_the_median_ranked_by_change_and_volume() -> None:
    _events(TUESDAY, "event_viewed", 5000)
    _events(TUESDAY, "payment_completed", 400)
    _events(TUESDAY, "payment_failed", 40)
    _weekday_history("daily_active_users", [400, 410, 900, 390], 600)  # median 405: +48%
    _weekday_history("page_views", [1000, 1100, 1050, 950], 1200)  # median 1025: +17%, not news
    _weekday_history("payment_failure_rate", [5.0, 6.0, 4.0, 5.0], 9.0)  # median 5: +80%, 440 events
    found = movers(Period.containing("day", TUESDAY), today=date(2026, 3, 11))
    assert [m.metric_name for m in found] == ["payment_failure_rate", "daily_active_users"]
    failure, active = found
    assert failure.baseline == 5.0 and round(failure.change_percentage) == 80 and not failure.good_news
    assert failure.volume == 440  # payment_initiated + completed + failed
    assert active.baseline == 405.0 and active.good_news
    # ranked by |change| × log10(1 + volume): 80 × 2.6 beats 48 × 3.7
    assert failure.score > active.score


def test_a_rate_over_too_few_events_is_not_news() -> None:
    _events(TUESDAY, "payment_completed", 4)
    _events(TUESDAY, "payment_chargeback", 1)
    _weekday_history("chargeback_rate", [0.0, 1.0, 1.0, 2.0], 25.0)
    assert movers(Period.containing("day", TUESDAY), today=date(2026, 3, 11)) == []


def test_a_metric_that_settles_late_waits_until_it_has_settled() -> None:
    _events(TUESDAY, "event_viewed", 5000)
    _weekday_history("overall_conversion_rate", [10.0, 10.0, 10.0, 10.0], 2.0)  # yesterday: still provisional
    assert movers(Period.containing("day", TUESDAY), today=date(2026, 3, 11)) == []
    assert [m.metric_name for m in movers(Period.containing("day", TUESDAY), today=date(2026, 3, 30))] == [
        "overall_conversion_rate"
    ]


def test_markdown_and_html_carry_the_same_sections() -> None:
    _events(TUESDAY, "event_viewed", 5000)
    _weekday_history("daily_active_users", [400, 410, 420, 390], 800)
    digest = digest_build("daily")
    text, html = digest_markdown(digest), digest_html(digest)
    assert text.startswith("# Loopin daily digest — Tue 10 Mar 2026\n")
    for heading in ("What moved", "Open alerts (0)", "Hosts with the most net revenue", "Anomalies in the period"):
        assert f"## {heading}" in text and f">{heading}</h2>" in html
    assert "| daily_active_users | KPI | 800 | 405 | ▲ 98% (good) | 5,000 |" in text
    assert '<td style="border-bottom: 1px solid #e5e7eb; padding: 4px 8px;">daily_active_users</td>' in html
    assert "## New insights\n\nNo new insight in the period." in text


def test_the_digest_lists_platform_insights_first_raised_in_its_period() -> None:
    def draft(key: str, priority: str, **extra: Any) -> InsightDraft:
        return InsightDraft(
            "demand_supply", key, f"Finding {key}", "…", 0.8, priority, [f"Act on {key}"], "platform", {}, **extra
        )

    insights_store(generated_types=[], drafts=[draft("old", "high")], narratives={}, now=NOW - timedelta(days=2))
    raised = NOW - timedelta(hours=12)  # Tuesday evening in Kolkata
    drafts = [
        draft("new", "medium"),
        draft("urgent", "critical"),
        draft("host", "critical", host_id="h1"),
        draft("gone", "high"),
    ]
    insights_store(generated_types=[], drafts=drafts, narratives={}, now=raised)
    AIInsight.objects.filter(dedup_key="gone").update(status="dismissed")
    digest = digest_build("daily")
    assert [i["title"] for i in digest.insights] == ["Finding urgent", "Finding new"]  # no host's, no closed, no older
    text = digest_markdown(digest)
    assert "| critical | Finding urgent | 80% | Act on urgent |" in text


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django swaps in locmem
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = server.host, server.port, 5
        settings.DEFAULT_FROM_EMAIL = "reports@loopin.test"
        settings.ANALYTICS_REPORT_EMAILS = RECIPIENTS
        settings.ANALYTICS_REPORT_HOUR = 7
        yield server


def test_each_period_is_sent_once_as_text_and_html(smtp: SmtpServer) -> None:
    assert digest_send_due() == {"daily": True, "weekly": True, "monthly": True}
    assert digest_send_due() == {"daily": False, "weekly": False, "monthly": False}
    mails = smtp.messages()
    assert sorted(m.subject for m in mails) == [
        "Loopin daily digest — Tue 10 Mar 2026",
        "Loopin monthly digest — February 2026",
        "Loopin weekly digest — week of 02 Mar 2026",
    ]
    assert all(m.recipients == RECIPIENTS for m in mails)
    assert mails[0].message.get_body(preferencelist=("html",)) is not None
    assert "## What moved" in mails[0].text
    assert ReportDelivery.objects.count() == 3


def test_a_refused_message_is_recorded_nowhere_and_goes_out_at_the_next_run(smtp: SmtpServer) -> None:
    smtp.fail_next(1)
    with pytest.raises(smtplib.SMTPDataError):  # the server's 451: the task fails and the next run sends it
        digest_send("daily")
    assert not ReportDelivery.objects.exists()
    assert digest_send("daily") is True
    assert len(smtp.messages()) == 1
    assert ReportDelivery.objects.get().period_start == TUESDAY


def test_nothing_goes_out_before_the_report_hour_or_without_recipients(smtp: SmtpServer, settings: Any) -> None:
    clock.freeze(datetime.fromisoformat("2026-03-11T00:30:00+00:00"))  # 06:00 in Kolkata
    assert digest_send("daily") is False
    clock.freeze(NOW)
    settings.ANALYTICS_REPORT_EMAILS = []
    assert digest_send("daily") is False
    assert smtp.messages() == [] and not ReportDelivery.objects.exists()


def test_the_command_prints_tables_or_markdown() -> None:
    _events(TUESDAY, "event_viewed", 5000)
    _weekday_history("daily_active_users", [400, 410, 420, 390], 800)
    out = StringIO()
    call_command("analytics_report", "--period", "daily", stdout=out)
    printed = out.getvalue()
    assert printed.startswith("Loopin daily digest — Tue 10 Mar 2026\n")
    assert "What moved" in printed and "┃ metric" in printed and "daily_active_users" in printed
    assert "No open alerts." in printed
    out = StringIO()
    call_command("analytics_report", "--period", "weekly", "--markdown", stdout=out)
    assert out.getvalue().startswith("# Loopin weekly digest — week of 02 Mar 2026\n")
    with pytest.raises(CommandError):
        call_command("analytics_report", "--period", "yearly")


@pytest.mark.django_db(transaction=True)  # the tasks open fresh connections, as on a worker
def test_beat_runs_the_documented_daily_task_and_the_period_task_hourly(smtp: SmtpServer) -> None:
    from analytics.tasks import generate_daily_insights_summary, generate_period_reports
    from analytics.tasks.schedule import beat_schedule

    schedule = beat_schedule()
    assert schedule["daily-digest"]["task"] == generate_daily_insights_summary.name
    assert generate_daily_insights_summary.name == "analytics.tasks.reports.generate_daily_insights_summary"
    assert schedule["period-digests"]["task"] == generate_period_reports.name
    assert generate_daily_insights_summary.apply().get() == {"daily": True}
    assert generate_period_reports.apply().get() == {"weekly": True, "monthly": True}
    assert generate_daily_insights_summary.apply().get() == {"daily": False}
    assert len(smtp.messages()) == 3
