"""--anomalies: four labelled incidents, at deterministic places, visible in the stored data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from django.db.models import Q

from analytics.models import UserEvent
from analytics.simulator import config_build
from analytics.simulator.anomalies import AnomalyPlan
from analytics.simulator.behaviour.engine import Simulation
from analytics.simulator.world import Calendar
from tests.unit.simulator.conftest import END_DATE, TODAY, simulate, truth_of, wipe_analytics_tables

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def incidents(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, Any]]]:
    """One simulation with --anomalies for the whole module (committed, wiped afterwards)."""
    with django_db_blocker.unblock():
        report = simulate(
            data_dir=tmp_path_factory.mktemp("anomalies"),
            users=2000,
            days=56,
            seed=4,
            anomalies=True,
            batch_size=5000,
        )
        assert report.delivery.rejected == 0
        yield {window["type"]: window for window in truth_of(report)["anomalies"]}
        wipe_analytics_tables()


def _between(window: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])


def test_the_windows_are_labelled_inside_the_period_and_do_not_overlap() -> None:
    config = config_build(
        users=10, days=90, seed=1, end_date=END_DATE, time_zone="Asia/Kolkata", today=TODAY, anomalies=True
    )
    calendar = Calendar(config)
    windows = AnomalyPlan(calendar, enabled=True).windows
    assert {w.type for w in windows} == {
        "traffic_drop",
        "payment_failure_spike",
        "error_burst",
        "conversion_decay",
    }
    spans = sorted((w.start, w.end) for w in windows)
    for (first_start, first_end), (second_start, _) in pairwise(spans):
        assert first_start < first_end <= second_start
    assert config.start.timestamp() <= spans[0][0] and spans[-1][1] <= config.end.timestamp()
    assert all(w.affected_metric and w.magnitude > 0 and w.description for w in windows)
    assert AnomalyPlan(calendar, enabled=False).windows == ()


def test_the_truth_labels_every_window(incidents: dict[str, Any]) -> None:
    assert set(incidents) == {"traffic_drop", "payment_failure_spike", "error_burst", "conversion_decay"}
    for window in incidents.values():
        start, end = _between(window)
        assert start < end and start.utcoffset() is not None


def test_payment_failures_spike_inside_their_window(incidents: dict[str, Any]) -> None:
    start, end = _between(incidents["payment_failure_spike"])
    attempts = UserEvent.objects.filter(event_name="payment_initiated")
    failures = UserEvent.objects.filter(event_name="payment_failed")
    inside = Q(timestamp__gte=start, timestamp__lt=end)
    share_inside = failures.filter(inside).count() / max(1, attempts.filter(inside).count())
    share_outside = failures.exclude(inside).count() / max(1, attempts.exclude(inside).count())
    assert attempts.filter(inside).count() >= 10
    assert share_inside > 3 * share_outside and share_inside > 0.25


def test_errors_burst_inside_their_window(incidents: dict[str, Any]) -> None:
    start, end = _between(incidents["error_burst"])
    inside = Q(timestamp__gte=start, timestamp__lt=end)
    api = UserEvent.objects.filter(event_name="api_request")
    errors_inside = (
        api.filter(inside, status_code__gte=500).count()
        + UserEvent.objects.filter(inside, event_name="app_error").count()
    )
    errors_outside = (
        api.exclude(inside).filter(status_code__gte=500).count()
        + UserEvent.objects.filter(event_name="app_error").exclude(inside).count()
    )
    rate_inside = errors_inside / max(1, api.filter(inside).count())
    rate_outside = errors_outside / max(1, api.exclude(inside).count())
    assert rate_inside > 5 * rate_outside


def test_traffic_drops_inside_its_window(incidents: dict[str, Any]) -> None:
    start, end = _between(incidents["traffic_drop"])
    span = end - start
    # Browsing sessions (they open on the home screen); sessions a booking triggers still happen.
    visits = UserEvent.objects.filter(Q(properties__screen="home") | Q(properties__path="/"), event_name="page_view")

    def sessions(since: datetime, until: datetime) -> int:
        return visits.filter(timestamp__gte=since, timestamp__lt=until).values("session_id").distinct().count()

    during = sessions(start, end)
    assert during < 0.6 * min(sessions(start - span, start), sessions(end, end + span))


def _requests_per_view(*, anomalies: bool, since: float, until: float) -> float:
    """Requests per listing view in [since, until) of the module's platform, generated in memory."""
    config = config_build(
        users=2000, days=56, seed=4, end_date=END_DATE, time_zone="Asia/Kolkata", today=TODAY, anomalies=anomalies
    )
    views = requests = 0
    for events, instants in Simulation(config).days():
        for event, instant in zip(events, instants, strict=True):
            if since <= instant < until:
                views += event["event_name"] == "event_viewed"
                requests += event["event_name"] == "event_requested"
    return requests / max(1, views)


def test_conversion_decays_over_the_last_two_weeks(incidents: dict[str, Any]) -> None:
    """Against the same platform without incidents (same people, same seed): the platform's own
    conversion drifts with its growth, so the decay is judged against what would have happened."""
    start, end = _between(incidents["conversion_decay"])
    middle = start + (end - start) / 2
    late = {"since": middle.timestamp(), "until": end.timestamp()}
    with_decay = _requests_per_view(anomalies=True, **late)
    without = _requests_per_view(anomalies=False, **late)
    # The request propensity falls from 65% to 30% of normal over the late week (47% on average); requests per
    # view fall less (about 70%), because people who request less hold fewer commitments, and each commitment
    # held makes a request half as likely (docs/simulator.md, "Activity, day by day").
    assert with_decay < 0.8 * without, (with_decay, without)


def test_every_incident_lands_on_a_registry_metric_and_the_evaluation_plan_has_many() -> None:
    from analytics.metrics.registry import metric_get

    config = config_build(
        users=10, days=150, seed=1, end_date=END_DATE, time_zone="Asia/Kolkata", today=TODAY, anomalies=True
    )
    calendar = Calendar(config)
    demo = AnomalyPlan(calendar, enabled=True).windows
    evaluation = AnomalyPlan(calendar, enabled=True, plan="evaluation", seed=3).windows
    for window in (*demo, *evaluation):
        assert metric_get(window.affected_metric).name == window.affected_metric
    sudden = [w for w in evaluation if not w.gradual]
    by_metric = {m: [w for w in sudden if w.affected_metric == m] for m in {w.affected_metric for w in sudden}}
    assert set(by_metric) == {"daily_active_users", "payment_failure_rate", "api_error_rate", "view_to_request_rate"}
    for windows in by_metric.values():
        assert len(windows) >= 6
        for earlier, later in pairwise(windows):
            assert later.first_day - earlier.last_day >= 8  # 7 to 12 days apart
    assert {w.type for w in evaluation if w.gradual} == {"traffic_decline", "conversion_decay"}
    assert AnomalyPlan(calendar, enabled=True, plan="evaluation", seed=3).windows == evaluation  # seeded
