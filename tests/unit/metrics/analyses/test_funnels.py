"""Funnels on a small fixture, by hand — and the default funnel agrees with overall_conversion_rate."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.funnels import FunnelQuery, funnel_run
from tests.unit.metrics.support import created, ev, ingest, payment, recompute, value, view

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]

MAR10 = DateRange(date(2026, 3, 10), date(2026, 3, 10))
MARCH = DateRange(date(2026, 3, 1), date(2026, 3, 31))


def marketplace() -> None:
    ingest(
        created("L1", "2026-02-20T10:00", price=499, category="music", starts="2026-03-15T19:00"),
        created("L2", "2026-02-20T10:00", price=0, category="food", host="h2", starts="2026-03-15T19:00"),
    )
    ingest(
        # u1 converts on paid L1; the check-in falls after the range but inside 14 days
        view("2026-03-10T10:00", "u1", "L1", device="mobile"),
        ev("event_requested", "2026-03-10T11:00", user="u1", listing_id="L1", seats=1),
        payment("payment_completed", "2026-03-11T10:00", "u1", 499, listing="L1"),
        ev("event_checked_in", "2026-03-15T19:10", user="u1", listing_id="L1", seats=1),
        # u2 converts on free L2: no payment needed
        view("2026-03-10T10:00", "u2", "L2", device="desktop"),
        ev("event_requested", "2026-03-10T10:05", user="u2", listing_id="L2", seats=2),
        ev("event_checked_in", "2026-03-15T19:00", user="u2", listing_id="L2", seats=2),
        # u3 pays, never checks in
        view("2026-03-10T10:00", "u3", "L1", device="mobile"),
        ev("event_requested", "2026-03-10T10:05", user="u3", listing_id="L1", seats=1),
        payment("payment_completed", "2026-03-10T10:10", "u3", 499, listing="L1", order="o3"),
        # u4: checked in before viewing (out of order), requested after, never paid
        ev("event_checked_in", "2026-03-10T09:00", user="u4", listing_id="L1", seats=1),
        view("2026-03-10T10:00", "u4", "L1", device="mobile"),
        ev("event_requested", "2026-03-10T10:05", user="u4", listing_id="L1", seats=1),
        # an anonymous viewer is not an entrant
        view("2026-03-10T10:00", None, "L1", anon="a1"),
        # u5 (Mar 1): the check-in is 15 days after the view — outside the window
        view("2026-03-01T10:00", "u5", "L1"),
        ev("event_requested", "2026-03-02T10:00", user="u5", listing_id="L1", seats=1),
        payment("payment_completed", "2026-03-03T10:00", "u5", 499, listing="L1", order="o5"),
        ev("event_checked_in", "2026-03-16T10:00", user="u5", listing_id="L1", seats=1),
    )


def test_default_funnel_counts_each_ordered_step_per_listing_with_free_listings_skipping_payment() -> None:
    marketplace()
    result = funnel_run(query=FunnelQuery(range=MAR10))
    steps = result.overall.steps
    assert result.by_listing is True
    assert [s.count for s in steps] == [
        4,
        4,
        3,
        2,
    ]  # u1-u4 viewed; all requested; u1, u3 paid + u2 free; u1, u2
    assert [s.conversion_from_previous for s in steps] == [100.0, 100.0, 75.0, pytest.approx(200 / 3)]
    assert [s.conversion_from_start for s in steps] == [100.0, 100.0, 75.0, 50.0]
    assert result.overall.conversion_rate == 50.0
    # request: u1 1 h, u2/u3/u4 5 min → median 300 s
    assert steps[1].median_seconds_from_previous == 300
    # payment (u2's skipped step has no time): u1 23 h, u3 5 min
    assert steps[2].median_seconds_from_previous == (23 * 3600 + 300) / 2
    # check-in: u1 from payment Mar 11 10:00 to Mar 15 19:10; u2 from request Mar 10 10:05 to Mar 15 19:00
    u1 = 4 * 86400 + 9 * 3600 + 600
    u2 = 5 * 86400 + 8 * 3600 + 55 * 60
    assert steps[3].median_seconds_from_previous == (u1 + u2) / 2


def test_default_funnel_conversion_equals_the_stored_overall_conversion_rate() -> None:
    marketplace()
    recompute()
    assert funnel_run(query=FunnelQuery(range=MAR10)).overall.conversion_rate == value(
        "overall_conversion_rate", "2026-03-10"
    )
    march = funnel_run(query=FunnelQuery(range=MARCH)).overall
    assert march.entrants == 5 and march.converted == 2  # u5 missed the 14-day window
    assert march.conversion_rate == value("overall_conversion_rate", "2026-03-01", "month") == 40.0


def test_the_marketplace_funnel_from_the_rollup_equals_the_one_from_the_events() -> None:
    marketplace()
    recompute()
    for rng in (MAR10, MARCH):
        rolled = funnel_run(query=FunnelQuery(range=rng), from_rollup=True)
        counted = funnel_run(query=FunnelQuery(range=rng))
        assert (rolled.computed_from, counted.computed_from) == ("rollup", "events")
        assert rolled.overall == counted.overall  # counts, conversions and median times alike
    # a breakdown (or other steps) is always computed from the events
    assert funnel_run(query=FunnelQuery(range=MARCH, breakdown="city"), from_rollup=True).computed_from == "events"


def test_a_wider_window_lets_the_late_check_in_convert() -> None:
    marketplace()
    march = funnel_run(query=FunnelQuery(range=MARCH, window_days=16)).overall
    assert march.converted == 3


def test_funnel_breakdown_by_listing_category_and_entry_platform() -> None:
    marketplace()
    by_category = {
        s.breakdown_value: s for s in funnel_run(query=FunnelQuery(range=MAR10, breakdown="category")).breakdown
    }
    assert by_category["music"].entrants == 3 and by_category["music"].converted == 1  # u1 of u1, u3, u4
    assert by_category["food"].entrants == 1 and by_category["food"].conversion_rate == 100.0
    by_platform = {
        s.breakdown_value: s for s in funnel_run(query=FunnelQuery(range=MAR10, breakdown="platform")).breakdown
    }
    assert (by_platform["mobile"].entrants, by_platform["mobile"].converted) == (3, 1)
    assert (by_platform["desktop"].entrants, by_platform["desktop"].converted) == (1, 1)


def test_custom_steps_follow_the_user_within_the_window() -> None:
    ingest(
        ev("page_view", "2026-03-10T10:00", user="u6", path="/"),
        ev("user_registered", "2026-03-10T12:00", user="u6", method="otp"),
        ev("page_view", "2026-03-10T10:00", user="u7", path="/"),
        ev("user_registered", "2026-03-12T10:01", user="u7", method="otp"),  # 2 days later: outside 1 day
        ev("user_registered", "2026-03-09T10:00", user="u8", method="otp"),  # before the first step
        ev("page_view", "2026-03-10T10:00", user="u8", path="/"),
    )
    result = funnel_run(query=FunnelQuery(range=MAR10, steps=("page_view", "user_registered"), window_days=1))
    assert result.by_listing is False
    assert [s.count for s in result.overall.steps] == [3, 1]
    assert result.overall.steps[1].median_seconds_from_previous == 7200


def test_a_repeated_step_needs_another_event() -> None:
    """page_view → page_view is two page views: one event never fills two steps, even at one instant."""
    ingest(
        ev("page_view", "2026-03-10T10:00", user="u1", path="/"),  # one view only
        ev("page_view", "2026-03-10T10:00", user="u2", path="/"),
        ev("page_view", "2026-03-10T10:30", user="u2", path="/b"),  # a second view 30 minutes later
        ev("page_view", "2026-03-10T11:00", user="u3", path="/"),
        ev("page_view", "2026-03-10T11:00", user="u3", path="/c"),  # two views at the same instant
    )
    result = funnel_run(query=FunnelQuery(range=MAR10, steps=("page_view", "page_view", "page_view")))
    assert [s.count for s in result.overall.steps] == [3, 2, 0]
    assert result.overall.steps[1].median_seconds_from_previous == 900  # u2: 1,800 s; u3: 0 s


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"steps": ()}, "empty_funnel"),
        ({"steps": tuple(f"s{i}" for i in range(11))}, "too_many_steps"),
        ({"window_days": 0}, "invalid_window"),
        ({"breakdown": "colour"}, "invalid_breakdown"),
        ({"steps": ("page_view", "user_registered"), "breakdown": "category"}, "invalid_breakdown"),
    ],
)
def test_invalid_funnels_are_refused(kwargs: dict, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        FunnelQuery(range=MAR10, **kwargs)
    assert caught.value.code == code


def test_a_one_step_funnel_of_a_listing_event_counts_its_entrants() -> None:
    """One step that follows a listing: every viewer is an entrant and has converted (it was a 500 once)."""
    marketplace()
    result = funnel_run(query=FunnelQuery(range=MAR10, steps=("event_viewed",)))
    assert result.by_listing is True
    assert (result.overall.entrants, result.overall.converted, result.overall.conversion_rate) == (4, 4, 100.0)
