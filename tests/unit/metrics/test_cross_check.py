"""The API's numbers equal an independent pandas recomputation over simulator data (SQLite).

One simulated platform (500 users × 60 days through the real pipeline, metrics backfilled) serves
every test of this module; tests/support/cross_check.py says how, tests/support/reference_metrics.py
recomputes each definition of docs/metrics.md from the API's own export.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.support import reference_metrics as ref
from tests.support.cross_check import (
    API,
    FIRST_DAY,
    PERIOD_TYPES,
    TODAY,
    Platform,
    every_period,
    simulated_platform,
)

# The data is committed once by the module fixture (API requests read it from their own threads);
# each test only reads, inside the usual rolled-back transaction.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sim(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from simulated_platform(django_db_blocker, Path(tmp_path_factory.mktemp("cross-check")))


def test_daily_active_users_match_overall_and_by_platform(sim: Platform) -> None:
    days = every_period("day")
    expected = {p.start: float(ref.active_users(sim.events, p)[""]) for p in days}
    assert expected[FIRST_DAY] > 0 and max(expected.values()) >= 20  # a real platform, not an empty one
    assert ref.mismatches(expected, sim.history("daily_active_users", "day")) == []
    by_platform = {
        (p.start, key): float(value)
        for p in days
        for key, value in ref.active_users(sim.events, p, "device_type").items()
    }
    assert ref.mismatches(by_platform, sim.history("daily_active_users", "day", "platform")) == []


@pytest.mark.parametrize("n", [1, 7, 30])
@pytest.mark.parametrize("period_type", PERIOD_TYPES)
def test_retention_matches_for_every_period(sim: Platform, n: int, period_type: str) -> None:
    expected = {p.start: ref.rounded(ref.retention(sim.events, p, n, TODAY)) for p in every_period(period_type)}
    assert any(value for value in expected.values())
    assert ref.mismatches(expected, sim.history(f"retention_rate_{n}d", period_type)) == []


def test_retention_endpoint_classic_rates_match(sim: Platform) -> None:
    response = sim.client.get(
        "/api/analytics/retention",
        params={"date_from": FIRST_DAY.isoformat(), "date_to": TODAY.isoformat()},
        headers=sim.headers,
    )
    assert response.status_code == 200, response.text
    whole = ref.Period("range", FIRST_DAY, TODAY)
    for n in (1, 7, 30):
        assert response.json()[f"retention_rate_{n}d"] == ref.rounded(ref.retention(sim.events, whole, n, TODAY))


def test_week_cohort_table_matches(sim: Platform) -> None:
    response = sim.client.get(
        "/api/analytics/retention",
        params={"date_from": FIRST_DAY.isoformat(), "date_to": TODAY.isoformat(), "period": "week", "intervals": 8},
        headers=sim.headers,
    )
    assert response.status_code == 200, response.text
    served = {date.fromisoformat(c["cohort_start"]): c["retained"] for c in response.json()["cohorts"]}
    expected = ref.week_cohorts(sim.events, FIRST_DAY, TODAY, 8, TODAY)
    assert served == expected
    assert sum(v or 0 for row in expected.values() for v in row[1:]) > 0  # people came back


@pytest.mark.parametrize("period_type", PERIOD_TYPES)
def test_overall_conversion_matches_for_every_period(sim: Platform, period_type: str) -> None:
    expected = {p.start: ref.rounded(ref.conversion(sim.events, p)) for p in every_period(period_type)}
    assert any(value for value in expected.values())
    assert ref.mismatches(expected, sim.history("overall_conversion_rate", period_type)) == []


def test_funnel_endpoint_step_counts_match(sim: Platform) -> None:
    response = sim.client.post(
        "/api/analytics/funnels",
        json={"date_from": FIRST_DAY.isoformat(), "date_to": TODAY.isoformat()},
        headers=sim.headers,
    )
    assert response.status_code == 200, response.text
    steps = response.json()["results"]
    expected = ref.funnel_counts(sim.events, FIRST_DAY, TODAY)
    assert [step["count"] for step in steps] == expected
    assert expected[-1] > 0


@pytest.mark.parametrize("period_type", PERIOD_TYPES)
def test_revenue_per_user_matches_for_every_period(sim: Platform, period_type: str) -> None:
    expected = {p.start: ref.rounded(ref.revenue_per_user(sim.events, p)) for p in every_period(period_type)}
    assert any(value for value in expected.values())
    assert ref.mismatches(expected, sim.history("revenue_per_user", period_type)) == []


@pytest.mark.parametrize("period_type", PERIOD_TYPES)
def test_payment_failure_rate_matches_overall_and_by_city(sim: Platform, period_type: str) -> None:
    periods = every_period(period_type)
    expected = {p.start: ref.rounded(ref.payment_failure_rate(sim.events, p)[""]) for p in periods}
    assert any(value for value in expected.values())
    assert ref.mismatches(expected, sim.history("payment_failure_rate", period_type)) == []
    by_city = {
        (p.start, key): ref.rounded(value)
        for p in periods
        for key, value in ref.payment_failure_rate(sim.events, p, "city").items()
    }
    assert ref.mismatches(by_city, sim.history("payment_failure_rate", period_type, "city")) == []


@pytest.mark.parametrize(
    ("event", "interval", "math", "breakdown"),
    [
        ("event_viewed", "day", "total", None),
        ("event_viewed", "day", "unique_users", None),
        ("event_viewed", "week", "unique_users", None),
        ("search_performed", "week", "total", "platform"),
        ("event_requested", "day", "total", "city"),
    ],
)
def test_trends_from_the_rollups_match(
    sim: Platform, event: str, interval: str, math: str, breakdown: str | None
) -> None:
    params = {"event": event, "date_from": FIRST_DAY.isoformat(), "date_to": TODAY.isoformat()}
    params |= {"interval": interval, "math": math} | ({"breakdown": breakdown} if breakdown else {})
    response = sim.client.get(f"{API}/trends", params=params, headers=sim.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["computed_from"] == "rollup"  # backfilled: every day read from the daily rollups
    by = {"platform": "device_type", "city": "city"}.get(breakdown or "")
    points, totals = ref.trend(sim.events, event, FIRST_DAY, TODAY, interval=interval, math=math, by=by)
    assert sum(totals.values()) >= 50  # a real platform, not an empty one
    served = {
        (date.fromisoformat(p["date"]), s["breakdown_value"] or ""): p["value"]
        for s in body["series"]
        for p in s["data"]
        if p["value"]
    }
    assert ref.mismatches(points, served) == []
    assert ref.mismatches(totals, {s["breakdown_value"] or "": s["total"] for s in body["series"]}) == []
