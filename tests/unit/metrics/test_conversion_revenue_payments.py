"""Conversion, revenue and payment metrics, by hand."""

from __future__ import annotations

import pytest

from tests.unit.metrics.support import created, ev, ingest, payment, recompute, row, value, view

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]


def test_overall_conversion_follows_ordered_steps_per_listing_within_14_days() -> None:
    ingest(
        created("L1", "2026-02-20T10:00", price=499, starts="2026-03-15T19:00"),
        created("L2", "2026-02-20T10:00", price=0, starts="2026-03-15T19:00"),
    )
    ingest(
        # u1 converts on paid L1 (check-in after the period: still counts, within 14 days)
        view("2026-03-10T10:00", "u1", "L1"),
        ev("event_requested", "2026-03-10T11:00", user="u1", listing_id="L1", seats=1),
        payment("payment_completed", "2026-03-11T10:00", "u1", 499, listing="L1"),
        ev("event_checked_in", "2026-03-15T19:10", user="u1", listing_id="L1", seats=1),
        # u2 converts on free L2 without a payment
        view("2026-03-10T10:00", "u2", "L2"),
        ev("event_requested", "2026-03-10T10:05", user="u2", listing_id="L2", seats=2),
        ev("event_checked_in", "2026-03-15T19:00", user="u2", listing_id="L2", seats=2),
        # u3 pays but never checks in
        view("2026-03-10T10:00", "u3", "L1"),
        ev("event_requested", "2026-03-10T10:05", user="u3", listing_id="L1", seats=1),
        payment("payment_completed", "2026-03-10T10:10", "u3", 499, listing="L1", order="o3"),
        # u4: the check-in came before the view (out of order)
        ev("event_checked_in", "2026-03-10T09:00", user="u4", listing_id="L1", seats=1),
        view("2026-03-10T10:00", "u4", "L1"),
        ev("event_requested", "2026-03-10T10:05", user="u4", listing_id="L1", seats=1),
        # an anonymous viewer is not an entrant
        view("2026-03-10T10:00", None, "L1", anon="a1"),
        # u5 on Mar 1: checks in 15 days after the view — outside the window
        view("2026-03-01T10:00", "u5", "L1"),
        ev("event_requested", "2026-03-02T10:00", user="u5", listing_id="L1", seats=1),
        payment("payment_completed", "2026-03-03T10:00", "u5", 499, listing="L1", order="o5"),
        ev("event_checked_in", "2026-03-16T10:00", user="u5", listing_id="L1", seats=1),
    )
    recompute()
    assert value("overall_conversion_rate", "2026-03-10") == 50.0  # u1, u2 of u1…u4
    assert value("overall_conversion_rate", "2026-03-01") == 0.0  # one entrant, not converted: 0, not no data
    assert value("overall_conversion_rate", "2026-03-12") is None  # no entrants: no data
    # March: entrants u1…u5, converted u1, u2
    assert value("overall_conversion_rate", "2026-03-01", "month") == 40.0


def test_a_late_step_changes_the_conversion_of_the_day_of_the_view() -> None:
    ingest(created("L1", "2026-02-20T10:00", price=0))
    ingest(
        view("2026-03-10T10:00", "u1", "L1"),
        ev("event_requested", "2026-03-10T11:00", user="u1", listing_id="L1", seats=1),
    )
    recompute()
    assert value("overall_conversion_rate", "2026-03-10") == 0.0
    ingest(ev("event_checked_in", "2026-03-18T19:00", user="u1", listing_id="L1", seats=1))  # 8 days later
    recompute()
    assert value("overall_conversion_rate", "2026-03-10") == 100.0


def revenue_fixture() -> None:
    ingest(
        created("L1", "2026-02-20T10:00", category="music"),
        created("L2", "2026-02-20T10:00", category="food", host="h2"),
    )
    ingest(
        *[payment("payment_initiated", "2026-03-10T09:00", u, 500, order=f"o{u}") for u in ("u1", "u2", "u3", "u4")],
        payment("payment_completed", "2026-03-10T10:00", "u1", 500, listing="L1", order="ou1"),
        payment("payment_completed", "2026-03-10T10:00", "u2", 300, listing="L2", order="ou2"),
        payment("payment_failed", "2026-03-10T10:00", "u2", 300, listing="L2", order="ou2b"),
        payment("payment_refunded", "2026-03-10T11:00", "u3", 100, listing="L1", order="old"),
        payment("payment_chargeback", "2026-03-10T12:00", "u4", 50, listing="L1", order="old2"),
    )


def test_revenue_per_user_and_per_paying_user_use_net_revenue_of_the_period() -> None:
    revenue_fixture()
    recompute()
    # net = +500 +300 −100 −50 = 650; active users u1…u4 (payments are user actions); payers u1, u2
    assert value("net_revenue", "2026-03-10") == 650.0
    assert value("revenue_per_user", "2026-03-10") == pytest.approx(650 / 4)
    assert value("revenue_per_paying_user", "2026-03-10") == pytest.approx(650 / 2)
    assert value("net_revenue", "2026-03-10", breakdown="category=music") == 350.0  # 500 − 100 − 50
    assert value("net_revenue", "2026-03-10", breakdown="category=food") == 300.0
    assert value("net_revenue", "2026-03-10", breakdown="host=h2") == 300.0


def test_payment_rates_and_their_status_against_thresholds() -> None:
    revenue_fixture()
    recompute()
    assert value("payment_success_rate", "2026-03-10") == pytest.approx(200 / 3)  # 2 of 3 outcomes
    assert value("payment_failure_rate", "2026-03-10") == pytest.approx(100 / 3)
    assert value("refund_rate", "2026-03-10") == 50.0  # 1 refund / 2 completed
    assert value("chargeback_rate", "2026-03-10") == 50.0
    assert value("ticket_purchase_success_ratio", "2026-03-10") == 50.0  # 2 completed / 4 initiated
    assert value("payment_failure_rate", "2026-03-10", breakdown="category=food") == 50.0
    # three payment outcomes are too few to judge (docs/metrics.md, "Minimum volume"): shown, never an alert
    failure = row("payment_failure_rate", "2026-03-10")
    assert (failure.status, failure.is_alert_triggered, failure.metric_type) == ("sparse", False, "kri")
    assert row("payment_success_rate", "2026-03-10").status == "sparse"
    assert row("refund_rate", "2026-03-11").status == "no_data"


def test_a_payment_rate_is_judged_from_twenty_outcomes_on() -> None:
    """One chargeback of five payments is 20% and `sparse`; one of 25 is 4%, past the 1% critical line."""
    events = [
        payment("payment_completed", f"2026-03-10T{10 + n // 6:02d}:{n % 6 * 9:02d}", f"u{n}", 100, order=f"o{n}")
        for n in range(5)
    ]
    ingest(*events, payment("payment_chargeback", "2026-03-10T18:00", "u0", 100, order="o0"))
    recompute()
    sparse = row("chargeback_rate", "2026-03-10")
    assert (sparse.value, sparse.status, sparse.is_alert_triggered) == (20.0, "sparse", False)
    more = [
        payment("payment_completed", f"2026-03-10T{12 + n // 6:02d}:{n % 6 * 9:02d}", f"v{n}", 100, order=f"p{n}")
        for n in range(20)
    ]
    ingest(*more)
    recompute()
    judged = row("chargeback_rate", "2026-03-10")
    assert (judged.value, judged.status, judged.is_alert_triggered) == (4.0, "red", True)


def test_a_refund_after_the_period_lowers_the_later_period_and_leaves_the_earlier_one() -> None:
    revenue_fixture()
    recompute()
    ingest(payment("payment_refunded", "2026-03-12T10:00", "u1", 200, listing="L1", order="ou1"))
    recompute()
    assert value("net_revenue", "2026-03-10") == 650.0
    assert value("refund_rate", "2026-03-10") == 50.0
    assert value("net_revenue", "2026-03-12") == -200.0
    assert value("refund_rate", "2026-03-12") is None  # no completed payment on Mar 12
    assert value("net_revenue", "2026-03-09", "week") == 450.0
    month = row("net_revenue", "2026-03-01", "month")
    # March is in progress (today is Mar 20): no change against February, no status until it ends
    assert (month.value, month.previous_value, month.change_percentage, month.change_direction, month.status) == (
        450.0,
        0.0,
        None,
        "",
        "partial",
    )


def test_identity_metrics_otp_verification_and_profile_completion() -> None:
    day = "2026-03-10T10:00"
    ingest(
        ev("otp_generated", day, user="u1", otp_type="login"),
        ev("otp_verified", day, user="u1", otp_type="login"),
        ev("otp_generated", day, user="u2", otp_type="login"),
        ev("otp_failed", day, user="u2", otp_type="login"),
        ev("otp_generated", day, user="u3", otp_type="login"),
        ev("otp_verified", day, user="u4", otp_type="login"),
        ev("user_registered", day, user="u5", method="otp"),
        ev("user_registered", day, user="u6", method="otp"),
        ev("profile_updated", day, user="u5", fields_completed=4, is_verified=True),
        ev("profile_updated", day, user="u7", fields_completed=2, is_verified=False),
    )
    recompute()
    assert value("otp_verification_failure_rate", "2026-03-10") == pytest.approx(100 / 3)  # 1 failed / 3 outcomes
    assert value("user_verification_completion_rate", "2026-03-10") == pytest.approx(100 / 3)  # u1 of u1, u2, u3
    assert value("profile_completion_rate", "2026-03-10") == 50.0  # u5 of u5, u6
    assert value("user_verification_completion_rate", "2026-03-11") is None
