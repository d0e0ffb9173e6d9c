"""Activity metrics on small fixtures whose answers are worked out by hand."""

from __future__ import annotations

import pytest

from tests.unit.metrics.support import ev, ingest, recompute, value

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]


def test_active_users_count_identified_user_initiated_activity_only() -> None:
    ingest(
        ev("page_view", "2026-03-09T10:00", user="u1", device="mobile", path="/"),
        ev("page_view", "2026-03-10T10:00", user="u1", device="mobile", path="/"),
        ev("search_performed", "2026-03-10T11:00", user="u1", device="mobile", results_count=3),
        ev("page_view", "2026-03-10T12:00", user="u2", device="desktop", path="/"),
        ev(
            "api_request",
            "2026-03-10T12:00",
            user="u3",
            route="/x",
            method="GET",
            status_code=200,
            response_time_ms=5,
        ),
        ev("app_error", "2026-03-10T12:05", user="u3", error_type="crash"),
        ev("page_view", "2026-03-10T12:10", anon="a1", path="/"),  # anonymous only: never active
    )
    recompute()
    # 2026-03-10: u1 and u2 (u3 only sent api_request/app_error; a1 is anonymous)
    assert value("daily_active_users", "2026-03-10") == 2
    assert value("daily_active_users", "2026-03-09") == 1
    assert value("daily_active_users", "2026-03-10", breakdown="platform=mobile") == 1
    assert value("daily_active_users", "2026-03-10", breakdown="platform=desktop") == 1
    assert value("weekly_active_users", "2026-03-09", "week") == 2  # Mon 9 – Sun 15: u1, u2
    assert value("monthly_active_users", "2026-03-01", "month") == 2
    # Week of Mar 9 (all 7 days before today): daily actives 1 + 2 + 0×5 = 3 → average 3/7; WAU 2.
    assert value("stickiness", "2026-03-09", "week") == pytest.approx(100 * (3 / 7) / 2, abs=1e-6)
    # page views: 3 page_view events on Mar 10 incl. the anonymous one
    assert value("page_views", "2026-03-10") == 3


def test_anonymous_history_counts_once_the_anonymous_id_is_linked_to_a_user() -> None:
    ingest(ev("page_view", "2026-03-10T10:00", anon="a2", path="/"))
    recompute()
    assert value("daily_active_users", "2026-03-10") == 0
    # Two days later the visitor logs in: the anonymous page view on Mar 10 becomes u9's.
    ingest(ev("user_logged_in", "2026-03-12T09:00", user="u9", anon="a2", method="otp"))
    recompute()
    assert value("daily_active_users", "2026-03-10") == 1
    assert value("daily_active_users", "2026-03-12") == 1


def test_session_length_median_and_sessions_per_user() -> None:
    ingest(
        ev("page_view", "2026-03-10T10:00", user="u1", session="s1", path="/a"),
        ev("page_view", "2026-03-10T10:30", user="u1", session="s1", path="/b"),  # 30 min
        ev("page_view", "2026-03-10T14:00", user="u1", session="s4", path="/a"),
        ev("page_view", "2026-03-10T14:50", user="u1", session="s4", path="/b"),  # 50 min
        ev("page_view", "2026-03-10T11:00", user="u2", session="s2", path="/a"),  # 0 min
        ev("page_view", "2026-03-10T12:00", anon="a1", session="s3", path="/a"),
        ev("page_view", "2026-03-10T12:10", anon="a1", session="s3", path="/b"),  # 10 min, anonymous
    )
    recompute()
    assert value("avg_session_length_minutes", "2026-03-10") == pytest.approx((30 + 50 + 0 + 10) / 4)
    assert value("median_session_length_minutes", "2026-03-10") == pytest.approx((10 + 30) / 2)
    assert value("sessions_per_user", "2026-03-10") == pytest.approx(3 / 2)  # s1, s4, s2 over u1, u2


def test_empty_periods_report_no_data_for_rates_and_zero_for_counts() -> None:
    ingest(ev("page_view", "2026-03-10T10:00", user="u1", session="s1", path="/"))
    recompute()
    # Mar 11 (the day after an event day) is computed for its previous-value; nothing happened on it.
    assert value("daily_active_users", "2026-03-11") == 0
    assert value("avg_session_length_minutes", "2026-03-11") is None
    assert value("median_session_length_minutes", "2026-03-11") is None
    assert value("sessions_per_user", "2026-03-11") is None
    assert value("payment_failure_rate", "2026-03-11") is None
    assert value("stickiness", "2026-03-16", "week") is None
