"""Anomaly detection on the stored platform: each watched series is its registry metric day by day; the
evaluation's in-memory series is the same as the rollups'; the batch stores anomalies, opens an alert with
the breakdown that moved most, and resolves it when the series is back to normal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.intelligence.anomalies.evaluation import platform_series
from analytics.intelligence.anomalies.series import SERIES, daily_series
from analytics.intelligence.anomalies.service import anomalies_detect, anomalies_find
from analytics.metrics.calculation import Evaluator
from analytics.metrics.periods import Period
from analytics.metrics.rollups import rollups_rebuild
from analytics.models import Alert, DailyUserActivity, DailyUserEvent, DetectedAnomaly
from analytics.models.alerts import AlertState
from analytics.simulator import config_build
from analytics.simulator.behaviour.engine import Simulation
from tests.unit.simulator.conftest import END_DATE, TODAY, simulate, wipe_analytics_tables

ZONE = ZoneInfo("Asia/Kolkata")


@pytest.fixture(scope="module")
def stored(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """700 users × 42 days through the pipeline, with the day rollups built."""
    with django_db_blocker.unblock():
        report = simulate(data_dir=tmp_path_factory.mktemp("series"), users=700, days=42, seed=8, batch_size=5000)
        first = report.config.start_date
        days = [first + timedelta(days=i) for i in range(42)]
        rollups_rebuild(days=days)
        yield {"days": days, "config": report.config}
        wipe_analytics_tables()


@pytest.mark.django_db
@pytest.mark.parametrize("metric", [spec.metric for spec in SERIES])
def test_each_series_is_its_registry_metric_day_by_day(stored: dict, metric: str) -> None:
    days = stored["days"]
    series = daily_series(metric=metric, first=days[0], last=days[-1])
    evaluator = Evaluator()
    checked = 0
    for i, day in enumerate(days[::5]):
        registry = evaluator.values(metric, Period.containing("day", day)).get("")
        mine = series.value(days.index(day))
        if registry is None:
            assert series.denominators is not None and series.denominators[days.index(day)] == 0
            continue
        assert mine == pytest.approx(registry, rel=1e-6, abs=1e-6), (metric, day, i)
        checked += 1
    assert checked >= 5


@pytest.mark.django_db
def test_the_evaluations_in_memory_series_equal_the_rollups(stored: dict) -> None:
    config = config_build(users=700, days=42, seed=8, end_date=END_DATE, time_zone="Asia/Kolkata", today=TODAY)
    memory = platform_series(Simulation(config))
    days = stored["days"]
    for spec in SERIES:
        rolled = daily_series(metric=spec.metric, first=days[0], last=days[-1])
        np.testing.assert_allclose(memory[spec.metric].values, rolled.values, rtol=1e-9, err_msg=spec.metric)
        if rolled.denominators is not None:
            np.testing.assert_allclose(memory[spec.metric].denominators, rolled.denominators, err_msg=spec.metric)


def _activity(day: date, users: int, city_counts: dict[str, int]) -> list[DailyUserActivity]:
    rows = []
    index = 0
    for city, count in city_counts.items():
        for _ in range(count):
            rows.append(DailyUserActivity(day=day, user_id=f"u{index}", platform="mobile", city=city, events=3))
            index += 1
    while index < users:
        rows.append(DailyUserActivity(day=day, user_id=f"u{index}", platform="mobile", city="Pune", events=3))
        index += 1
    return rows


@pytest.mark.django_db(transaction=True)
def test_a_drop_is_stored_alerted_with_the_city_that_moved_most_and_resolved_when_it_passes() -> None:
    first = date(2026, 3, 1)
    rows = []
    for i in range(45):
        day = first + timedelta(days=i)
        weekend = day.weekday() >= 5
        base = 300 if weekend else 240
        mumbai = 100 if i != 43 else 5  # day 43: Mumbai's users vanish
        rows += _activity(day, base - (100 - mumbai), {"Mumbai": mumbai, "Pune": base - 100})
    DailyUserActivity.objects.bulk_create(rows, batch_size=5000)
    after_drop = datetime.combine(first + timedelta(days=44), time(9), tzinfo=ZONE).astimezone(UTC)

    found = anomalies_find(metric_name="daily_active_users", days=7, as_of=after_drop)
    assert [a.date for a in found] == [first + timedelta(days=43)]
    drop = found[0]
    assert drop.direction == "down" and drop.harmful and drop.z_score < -4
    assert drop.breakdown is not None and (drop.breakdown["dimension"], drop.breakdown["value"]) == ("city", "Mumbai")

    run = anomalies_detect(as_of=after_drop)
    assert run.alerts_open == 1
    assert DetectedAnomaly.objects.get(metric_name="daily_active_users").day == first + timedelta(days=43)
    alert = Alert.objects.get(dedup_key="anomaly:daily_active_users")
    assert (alert.source, alert.state) == ("anomaly", AlertState.OPEN)
    assert alert.value == drop.actual_value and alert.threshold == drop.expected_value
    assert "Mumbai" in alert.message

    next_day = after_drop + timedelta(days=1)  # the newest complete day (44) is normal again
    assert anomalies_detect(as_of=next_day).alerts_open == 0
    assert Alert.objects.get(dedup_key="anomaly:daily_active_users").state == AlertState.RESOLVED


@pytest.mark.django_db(transaction=True)
def test_a_conversion_drop_names_the_platform_that_moved_most() -> None:
    """Catches: the conversion series promising platform and city breakdowns but reading none (its anomalies
    came without the breakdown that moved most)."""
    first = date(2026, 3, 1)
    activity, events = [], []
    for i in range(45):
        day = first + timedelta(days=i)
        for n in range(200):
            user, platform = f"u{n}", ("android" if n % 2 else "ios")
            activity.append(DailyUserActivity(day=day, user_id=user, platform=platform, city="Pune", events=3))
            events.append(DailyUserEvent(day=day, user_id=user, event_name="event_viewed", events=2))
            # a third of viewers request — on day 43 no android viewer does (its checkout broke)
            if n % 3 == 0 and not (i == 43 and platform == "android"):
                events.append(DailyUserEvent(day=day, user_id=user, event_name="event_requested", events=1))
    DailyUserActivity.objects.bulk_create(activity, batch_size=5000)
    DailyUserEvent.objects.bulk_create(events, batch_size=5000)
    after_drop = datetime.combine(first + timedelta(days=44), time(9), tzinfo=ZONE).astimezone(UTC)

    found = anomalies_find(metric_name="view_to_request_rate", days=7, as_of=after_drop)

    assert [a.date for a in found] == [first + timedelta(days=43)]
    assert found[0].direction == "down" and found[0].harmful
    assert found[0].breakdown is not None
    assert (found[0].breakdown["dimension"], found[0].breakdown["value"]) == ("platform", "android")


def test_unknown_series_and_bad_days_are_refused() -> None:
    from analytics.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as unknown:
        anomalies_find(metric_name="weekly_active_users")
    assert unknown.value.code == "invalid_metric"
    for days in (0, 91):
        with pytest.raises(ValidationFailed) as bad:
            anomalies_find(metric_name="daily_active_users", days=days)
        assert bad.value.code == "invalid_days"
