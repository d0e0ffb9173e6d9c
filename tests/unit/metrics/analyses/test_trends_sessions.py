"""Trends and session statistics, by hand — business-day buckets across the UTC boundary."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, date_range
from analytics.metrics.analyses.sessions import SessionStatsQuery, session_stats_run
from analytics.metrics.analyses.trends import TrendsQuery, parse_property_filters, trends_run
from analytics.models import UserEvent
from tests.unit.metrics.support import ev, ingest, recompute

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]

RANGE = DateRange(date(2026, 3, 10), date(2026, 3, 16))


def views() -> None:
    ingest(
        ev("page_view", "2026-03-10T23:30", user="u1", device="mobile", path="/a"),  # 18:00 UTC: Mar 10
        ev("page_view", "2026-03-11T00:15", user="u1", device="mobile", path="/a"),  # 18:45 UTC Mar 10: Mar 11
        ev("page_view", "2026-03-11T09:00", user="u2", device="desktop", path="/b"),
        ev("page_view", "2026-03-11T09:30", anon="a1", device="desktop", path="/a"),
        ev("page_view", "2026-03-16T09:00", user="u2", device="desktop", path="/a"),  # Monday: next week
        ev("search_performed", "2026-03-11T09:00", user="u2", results_count=1),
    )


def test_daily_counts_use_business_days_not_utc_days() -> None:
    views()
    (series,) = trends_run(query=TrendsQuery(event="page_view", range=RANGE)).series
    assert series.total == 5
    assert series.points[:3] == [(date(2026, 3, 10), 1), (date(2026, 3, 11), 3), (date(2026, 3, 12), 0)]
    assert series.points[-1] == (date(2026, 3, 16), 1)
    assert len(series.points) == 7


def test_weekly_unique_users_count_each_identified_user_once() -> None:
    views()
    (series,) = trends_run(
        query=TrendsQuery(event="page_view", range=RANGE, interval="week", math="unique_users")
    ).series
    assert series.points == [(date(2026, 3, 9), 2), (date(2026, 3, 16), 1)]  # u1, u2 (not a1); u2
    assert series.total == 2


def test_breakdown_by_platform_and_property_filter() -> None:
    views()
    series = trends_run(query=TrendsQuery(event="page_view", range=RANGE, breakdown="platform")).series
    assert {s.breakdown_value: s.total for s in series} == {"desktop": 3, "mobile": 2}
    filtered = trends_run(
        query=TrendsQuery(event="page_view", range=RANGE, properties=parse_property_filters(["path=/a"]))
    ).series
    assert filtered[0].total == 4
    by_path = trends_run(query=TrendsQuery(event="page_view", range=RANGE, breakdown="properties.path")).series
    assert {s.breakdown_value: s.total for s in by_path} == {"/a": 4, "/b": 1}
    no_listing = trends_run(
        query=TrendsQuery(event="page_view", range=RANGE, breakdown="listing_id", math="unique_users")
    ).series
    assert [(s.breakdown_value, s.total) for s in no_listing] == [("unknown", 2)]


ROLLUP_QUERIES = [
    {},
    {"interval": "week"},
    {"breakdown": "platform"},
    {"breakdown": "listing_id", "interval": "week"},
    {"math": "unique_users"},
    {"math": "unique_users", "interval": "week"},
]


def answers(*, use_rollups: bool = True, **kwargs: object) -> tuple[list[tuple[str | None, int, list]], str]:
    query = TrendsQuery(event="page_view", range=RANGE, **kwargs)  # type: ignore[arg-type]
    result = trends_run(query=query, use_rollups=use_rollups)
    return [(s.breakdown_value, s.total, s.points) for s in result.series], result.computed_from


@pytest.mark.parametrize("kwargs", ROLLUP_QUERIES)
def test_rollups_serve_current_days_with_the_events_answer(kwargs: dict) -> None:
    views()
    from_events, source = answers(use_rollups=False, **kwargs)
    assert source == "events"
    # Before a rollup run the days with events are dirty: read from the events (the empty days from the
    # rollups, which are current for them).
    assert answers(**kwargs) == (from_events, "rollup+events")
    recompute()
    assert answers(**kwargs) == (from_events, "rollup")


def test_a_late_event_is_counted_at_once_and_a_user_once_per_week() -> None:
    views()
    recompute()
    # u1 again on Thursday of the first week (already rolled up days hold u1 on Mar 10 and 11).
    ingest(ev("page_view", "2026-03-12T10:00", user="u1", device="mobile", path="/c"))
    daily, source = answers()
    assert source == "rollup+events"  # Mar 12 is dirty: read from the events, the rest from the rollups
    assert daily[0][1] == 6 and daily[0][2][2] == (date(2026, 3, 12), 1)
    weekly, _ = answers(math="unique_users", interval="week")
    assert weekly == [(None, 2, [(date(2026, 3, 9), 2), (date(2026, 3, 16), 1)])]  # u1 once, not twice
    recompute()
    assert answers(math="unique_users", interval="week") == (weekly, "rollup")
    assert answers() == (daily, "rollup")


def test_events_waiting_for_processing_are_read_from_the_events() -> None:
    views()
    recompute()
    UserEvent.objects.filter(event_name="page_view", user_id="u2").update(processed_at=None)
    daily, source = answers()
    assert source == "rollup+events"
    assert daily[0][1] == 5


def test_property_filters_and_other_breakdowns_read_the_events() -> None:
    views()
    recompute()
    assert answers(breakdown="os")[1] == "events"
    assert answers(math="unique_users", breakdown="platform")[1] == "events"
    filtered = trends_run(
        query=TrendsQuery(event="page_view", range=RANGE, properties=parse_property_filters(["path=/a"]))
    )
    assert (filtered.computed_from, filtered.series[0].total) == ("events", 4)


@pytest.mark.parametrize(
    "kwargs",
    [{"interval": "month"}, {"math": "sum"}, {"breakdown": "password"}, {"breakdown": "properties.a b"}],
)
def test_invalid_trends_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValidationFailed):
        TrendsQuery(event="page_view", range=RANGE, **kwargs)


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        date_range(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))
    with pytest.raises(ValidationFailed):
        date_range(date_from=date(2024, 1, 1), date_to=date(2026, 3, 1))
    with pytest.raises(ValidationFailed):
        date_range(date_from=None, date_to=date(9999, 12, 31))
    with pytest.raises(ValidationFailed):
        parse_property_filters(["no-equals-sign"])


def test_session_statistics() -> None:
    ingest(
        ev("page_view", "2026-03-10T10:00", user="u1", session="s1", path="/a"),
        ev("page_view", "2026-03-10T10:30", user="u1", session="s1", path="/b"),  # 30 min, 2 events
        ev("page_view", "2026-03-10T14:00", user="u1", session="s4", path="/a"),
        ev("page_view", "2026-03-10T14:50", user="u1", session="s4", path="/b"),  # 50 min
        ev("page_view", "2026-03-10T11:00", user="u2", session="s2", path="/a"),  # 0 min, 1 event: a bounce
        ev("page_view", "2026-03-10T12:00", anon="a1", session="s3", path="/a"),
        ev("page_view", "2026-03-10T12:10", anon="a1", session="s3", path="/b"),  # 10 min, anonymous
    )
    stats = session_stats_run(query=SessionStatsQuery(range=DateRange(date(2026, 3, 10), date(2026, 3, 10))))
    assert (stats.sessions, stats.identified_sessions, stats.identified_users) == (4, 3, 2)
    assert stats.avg_length_minutes == pytest.approx(90 / 4)
    assert stats.median_length_minutes == pytest.approx(20)
    assert stats.avg_events_per_session == pytest.approx(7 / 4)
    assert stats.sessions_per_user == 1.5
    assert stats.bounce_rate == 25.0
