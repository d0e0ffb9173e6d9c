"""Business days around a DST change are 23 or 25 hours long, in ranges and in trend buckets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.trends import TrendsQuery, trends_run
from tests.unit.metrics.support import ev, ingest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]


def at_utc(name: str, instant: str, user: str) -> dict:
    body = ev(name, "2026-03-01T00:00", user=user, path="/")
    body["timestamp"] = instant
    return body


def test_spring_forward_day_is_23_hours_and_buckets_follow_local_midnight(
    settings: pytest.FixtureRequest,
) -> None:
    settings.ANALYTICS_TIME_ZONE = "America/New_York"  # clocks go forward on 2026-03-08
    spring = DateRange(date(2026, 3, 8), date(2026, 3, 8))
    assert spring.end - spring.start == timedelta(hours=23)
    ingest(
        at_utc("page_view", "2026-03-08T04:30:00+00:00", "u1"),  # 23:30 EST Mar 7
        at_utc("page_view", "2026-03-08T05:30:00+00:00", "u1"),  # 00:30 EST Mar 8
        at_utc("page_view", "2026-03-09T03:30:00+00:00", "u2"),  # 23:30 EDT Mar 8
        at_utc("page_view", "2026-03-09T04:30:00+00:00", "u2"),  # 00:30 EDT Mar 9
    )
    (series,) = trends_run(
        query=TrendsQuery(event="page_view", range=DateRange(date(2026, 3, 7), date(2026, 3, 9)))
    ).series
    assert series.points == [(date(2026, 3, 7), 1), (date(2026, 3, 8), 2), (date(2026, 3, 9), 1)]
