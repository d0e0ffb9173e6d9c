"""Retention (D1/D7/D30 of first-active-day cohorts) and churn, by hand."""

from __future__ import annotations

import pytest

from analytics.models import UserFirstActivity
from tests.unit.metrics.support import ev, ingest, recompute, value

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]


def seen(user: str, day: str) -> dict:
    return ev("page_view", f"{day}T10:00", user=user, path="/")


def test_retention_is_the_share_of_the_cohort_active_exactly_on_day_n() -> None:
    ingest(
        seen("u1", "2026-03-10"),
        seen("u1", "2026-03-11"),
        seen("u1", "2026-03-17"),
        seen("u2", "2026-03-10"),
        seen("u2", "2026-03-12"),
        seen("u3", "2026-03-10"),
        seen("u5", "2026-03-19"),
        seen("u5", "2026-03-20"),
    )
    recompute()
    # Cohort Mar 10 = {u1, u2, u3}; on Mar 11 only u1; on Mar 17 only u1.
    assert value("retention_rate_1d", "2026-03-10") == pytest.approx(100 / 3)
    assert value("retention_rate_7d", "2026-03-10") == pytest.approx(100 / 3)
    # Day 30 of Mar 10 is Apr 9: not complete yet → no data (not 0%).
    assert value("retention_rate_30d", "2026-03-10") is None
    # Cohort Mar 19: its day 1 is today (Mar 20), not complete → no data.
    assert value("retention_rate_1d", "2026-03-19") is None
    # Week of Mar 9: cohort days Mar 9…15 mature for D1 (day+1 < Mar 20): u1, u2, u3 → 1/3.
    assert value("retention_rate_1d", "2026-03-09", "week") == pytest.approx(100 / 3)


def test_a_late_event_moves_a_user_into_an_earlier_cohort_and_both_cohorts_are_recomputed() -> None:
    ingest(seen("u1", "2026-03-10"), seen("u1", "2026-03-11"), seen("u4", "2026-03-11"), seen("u4", "2026-03-12"))
    recompute()
    assert value("retention_rate_1d", "2026-03-10") == 100.0  # {u1}: back on Mar 11
    assert value("retention_rate_1d", "2026-03-11") == 100.0  # {u4}: back on Mar 12 (u1 is a Mar 10 user)
    ingest(seen("u4", "2026-03-10"))  # a late event: u4 was already active on Mar 10
    recompute()
    assert UserFirstActivity.objects.get(user_id="u4").first_day.isoformat() == "2026-03-10"
    assert value("retention_rate_1d", "2026-03-10") == 100.0  # {u1, u4}: both active on Mar 11
    assert value("retention_rate_1d", "2026-03-11") is None  # cohort Mar 11 is now empty → no data


def test_churn_rate_is_last_periods_users_missing_this_period() -> None:
    ingest(
        seen("u1", "2026-03-03"),
        seen("u2", "2026-03-04"),
        seen("u3", "2026-03-05"),  # week of Mar 2
        seen("u1", "2026-03-10"),
        seen("u4", "2026-03-11"),  # week of Mar 9
    )
    recompute()
    assert value("churn_rate", "2026-03-09", "week") == pytest.approx(100 * 2 / 3)  # u2, u3 lost
    assert value("churn_rate", "2026-03-02", "week") is None  # nobody active the week before
    assert value("high_churn_probability_rate", "2026-03-10") is None
    assert value("monthly_active_users", "2026-03-01", "month") == 4
