"""Retention, lifecycle and stickiness over the rollups, by hand."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from analytics import clock
from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.lifecycle import LifecycleQuery, lifecycle_run
from analytics.metrics.analyses.retention import RetentionQuery, retention_run
from analytics.metrics.analyses.stickiness import StickinessQuery, stickiness_run
from tests.unit.metrics.support import ev, ingest, recompute, value

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]


def seen(user: str, day: str, at: str = "10:00") -> dict:
    return ev("page_view", f"{day}T{at}", user=user, path="/")


def activity() -> None:
    ingest(
        seen("u1", "2026-03-10"),
        seen("u1", "2026-03-11"),
        seen("u1", "2026-03-17"),
        seen("u2", "2026-03-10"),
        seen("u2", "2026-03-12"),
        seen("u3", "2026-03-10"),
        seen("u4", "2026-03-11"),
        seen("u4", "2026-03-12"),
        seen("u5", "2026-03-19"),
        seen("u5", "2026-03-20"),
        # anonymous-only and api_request activity make nobody active
        ev("page_view", "2026-03-10T10:00", anon="a1", path="/"),
        ev(
            "api_request",
            "2026-03-10T10:00",
            user="u9",
            route="/x",
            method="GET",
            status_code=200,
            response_time_ms=5,
        ),
    )
    recompute()


def test_day_cohorts_report_share_active_on_day_n_and_leave_incomplete_days_null() -> None:
    activity()
    result = retention_run(query=RetentionQuery(range=DateRange(date(2026, 3, 10), date(2026, 3, 19)), intervals=3))
    cohorts = {c.cohort_start: c for c in result.cohorts}
    assert sorted(cohorts) == [date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 19)]
    mar10 = cohorts[date(2026, 3, 10)]
    assert (mar10.size, mar10.retained) == (3, [3, 1, 1])  # u1 back on day 1, u2 on day 2
    assert mar10.rates == [100.0, pytest.approx(100 / 3), pytest.approx(100 / 3)]
    assert cohorts[date(2026, 3, 11)].retained == [1, 1, 0]  # u4
    assert cohorts[date(2026, 3, 19)].retained == [1, None, None]  # day 1 is today: not complete


def test_classic_d1_d7_d30_match_the_stored_retention_metrics() -> None:
    activity()
    week = DateRange(date(2026, 3, 9), date(2026, 3, 15))
    classic = retention_run(query=RetentionQuery(range=week)).classic
    # cohorts Mar 10 {u1,u2,u3} and Mar 11 {u4}: day 1 u1, u4 → 2/4; day 7 u1 (Mar 17) → 1/4;
    # day 30 is not mature
    assert classic == {"d1": 50.0, "d7": 25.0, "d30": None}
    assert classic["d1"] == value("retention_rate_1d", "2026-03-09", "week")
    assert classic["d7"] == value("retention_rate_7d", "2026-03-09", "week")
    assert value("retention_rate_30d", "2026-03-09", "week") is None


def test_week_cohorts_count_any_day_of_week_n() -> None:
    activity()
    clock.freeze(datetime.fromisoformat("2026-03-25T12:00:00+00:00"))  # the week of Mar 16 is now complete
    result = retention_run(
        query=RetentionQuery(range=DateRange(date(2026, 3, 9), date(2026, 3, 22)), period="week", intervals=2)
    )
    cohorts = {c.cohort_start: c for c in result.cohorts}
    assert cohorts[date(2026, 3, 9)].size == 4  # u1…u4
    assert cohorts[date(2026, 3, 9)].retained == [4, 1]  # u1 back in the week of Mar 16
    assert cohorts[date(2026, 3, 16)].retained == [1, None]  # u5; the week of Mar 23 is not over


def test_lifecycle_splits_active_users_into_new_returning_resurrecting_and_counts_dormant() -> None:
    activity()
    points = lifecycle_run(query=LifecycleQuery(range=DateRange(date(2026, 3, 10), date(2026, 3, 13)))).points
    got = [(p.period_start.day, p.active, p.new, p.returning, p.resurrecting, p.dormant) for p in points]
    assert got == [
        (10, 3, 3, 0, 0, 0),  # u1, u2, u3 are new
        (11, 2, 1, 1, 0, 2),  # u4 new, u1 returning; u2, u3 dormant
        (12, 2, 0, 1, 1, 1),  # u4 returning, u2 resurrecting; u1 dormant
        (13, 0, 0, 0, 0, 2),  # u2, u4 dormant
    ]


def test_lifecycle_by_week() -> None:
    activity()
    points = lifecycle_run(
        query=LifecycleQuery(range=DateRange(date(2026, 3, 9), date(2026, 3, 20)), interval="week")
    ).points
    got = [(p.period_start, p.active, p.new, p.returning, p.resurrecting, p.dormant) for p in points]
    assert got == [(date(2026, 3, 9), 4, 4, 0, 0, 0), (date(2026, 3, 16), 2, 1, 1, 0, 3)]


def test_stickiness_counts_active_days_per_user() -> None:
    activity()
    result = stickiness_run(query=StickinessQuery(range=DateRange(date(2026, 3, 10), date(2026, 3, 12))))
    # u1 Mar 10, 11; u2 Mar 10, 12; u3 Mar 10; u4 Mar 11, 12 — DAU 3, 2, 2
    assert result.users == 4 and result.days == 3
    assert result.distribution == [(1, 1), (2, 3), (3, 0)]
    assert result.dau_over_unique == pytest.approx(100 * (7 / 3) / 4)


def test_invalid_retention_queries_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        RetentionQuery(range=DateRange(date(2026, 3, 1), date(2026, 3, 2)), period="month")
    with pytest.raises(ValidationFailed):
        RetentionQuery(range=DateRange(date(2026, 3, 1), date(2026, 3, 2)), intervals=0)
