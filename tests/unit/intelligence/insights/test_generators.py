"""The listing-based generators on a hand-built marketplace whose answer is known: demand against supply
by market, a host's best day to hold an event and their capacity, and the anomaly insights."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from analytics.intelligence.forecasting.revenue import Series, forecast
from analytics.intelligence.insights.anomalies import anomaly_insights
from analytics.intelligence.insights.demand import demand_supply
from analytics.intelligence.insights.hosts import host_findings
from analytics.intelligence.insights.revenue import outlook, week_errors
from analytics.metrics.periods import business_today
from analytics.models import DetectedAnomaly
from tests.unit.intelligence.insights.market import listing, local

SATURDAY, TUESDAY, WEDNESDAY = 5, 1, 2


def _music_scene(now: datetime) -> None:
    """Music listings over the last 26 weeks: Saturday evenings fill ~90%, other evenings ~40%; host h-tue holds
    all of theirs on Tuesday mornings, host h-sat on Saturday evenings."""
    for i in range(35):
        listing(
            host=f"peer{i % 7}",
            category="music",
            starts_at=local(now, days_ago=2 + 5 * (i % 30), weekday=SATURDAY, hour=19),
            capacity=20,
            seats_requested=16 + i % 5,
            requests=8,
        )
    for i in range(70):
        listing(
            host=f"peer{i % 7}",
            category="music",
            starts_at=local(now, days_ago=2 + 2 * (i % 80), weekday=i % 5, hour=19),
            capacity=20,
            seats_requested=6 + i % 5,
            requests=4,
        )
    for weeks in range(4):
        listing(
            host="h-tue",
            category="music",
            starts_at=local(now, days_ago=3 + 7 * weeks, weekday=TUESDAY, hour=11),
            capacity=20,
            seats_requested=9,
            requests=10,
        )
    for weeks in range(3):
        listing(
            host="h-sat",
            category="music",
            starts_at=local(now, days_ago=3 + 7 * weeks, weekday=SATURDAY, hour=19),
            capacity=20,
            seats_requested=18,
            requests=12,
        )


@pytest.mark.django_db
def test_a_host_off_the_best_day_is_told_the_day_with_the_figures_behind_it(frozen_now: datetime) -> None:
    _music_scene(frozen_now)
    found = {d.host_id: d for d in host_findings(frozen_now).drafts if d.evidence["aspect"] == "best_time"}
    assert "h-tue" in found and "h-sat" not in found  # h-sat already holds theirs on the best day
    draft = found["h-tue"]
    best = draft.evidence["best_weekday"]
    assert best["weekday"] == "Saturday" and best["host_share"] == 0.0
    assert best["group_size"] == 38 and best["comparison_size"] == 74  # h-sat's three Saturdays count as peers
    assert best["group_fill"] > 0.85 and best["comparison_fill"] < 0.5 and best["z"] > 1.96
    assert draft.title == "Hold your next music listing on Saturdays"
    assert "Saturdays filled" in draft.description and f"({best['group_size']} listings)" in draft.description
    assert draft.target_type == "host" and draft.target_id == "h-tue" and 0.95 <= draft.confidence <= 0.99
    # The time of day is not suggested: only h-tue's four listings are in the morning (under 30 to compare).
    assert "best_time_of_day" not in draft.evidence


@pytest.mark.django_db
def test_a_host_whose_listings_sell_out_is_told_to_add_seats_and_a_small_host_is_not_enough_data(
    frozen_now: datetime,
) -> None:
    for weeks in range(4):
        listing(
            host="h-full",
            category="food",
            starts_at=local(frozen_now, days_ago=3 + 7 * weeks, weekday=WEDNESDAY, hour=20),
            capacity=20,
            seats_requested=31,
            requests=10,
        )
    listing(
        host="h-small",
        category="food",
        starts_at=local(frozen_now, days_ago=5, weekday=WEDNESDAY, hour=20),
        capacity=20,
        seats_requested=12,
        requests=6,
    )
    findings = host_findings(frozen_now)
    [capacity] = [d for d in findings.drafts if d.evidence["aspect"] == "capacity"]
    assert capacity.host_id == "h-full" and capacity.title == "4 of your 4 listings sold out: add seats"
    assert capacity.evidence["seats_requested"] == 124 and capacity.evidence["seats_offered"] == 80
    assert capacity.evidence["unmet_seats"] == 44
    [small] = [n for n in findings.not_enough_data if n.subject == "host h-small"]
    assert small.observations == 6 and small.threshold == 30
    assert small.message == "not enough data: 6 requests over 1 past listings, at least 30 needed"


@pytest.mark.django_db
def test_a_market_asked_for_more_seats_than_it_offers_is_reported_and_thin_markets_are_not_judged(
    frozen_now: datetime,
) -> None:
    for i in range(5):
        listing(
            host=f"c{i}",
            category="comedy",
            city="Pune",
            starts_at=frozen_now - timedelta(days=3 + 5 * i),
            capacity=10,
            seats_requested=25,
            requests=10,
        )
    for i in range(20):
        listing(
            host=f"o{i}",
            category="tech",
            city="Mumbai",
            starts_at=frozen_now - timedelta(days=2 + i),
            capacity=20,
            seats_requested=6 + i % 5,
            requests=4,
        )
    listing(
        host="t1",
        category="yoga",
        city="Goa",
        starts_at=frozen_now - timedelta(days=4),
        capacity=10,
        seats_requested=20,
        requests=20,
    )
    findings = demand_supply(frozen_now)
    [draft] = findings.drafts
    assert draft.dedup_key == "demand_supply:comedy:Pune" and draft.priority == "high"
    e = draft.evidence
    assert (e["listings"], e["requests"], e["seats_offered"], e["seats_requested"]) == (5, 50, 50, 125)
    assert e["demand_to_supply"] == 2.5 and e["sold_out"] == 5
    assert e["platform_demand_to_supply"] == round((125 + 160 + 20) / (50 + 400 + 10), 3)
    assert draft.title == "Comedy in Pune: 2.5 seats asked for every seat offered"
    assert [(n.subject, n.observations) for n in findings.not_enough_data] == [("yoga in Goa", 20)]


@pytest.mark.django_db
def test_anomalies_of_the_last_week_become_insights_prioritised_by_harm(frozen_now: datetime) -> None:
    today = business_today()
    rows = [
        (
            "payment_failure_rate",
            1,
            "up",
            "critical",
            True,
            {
                "dimension": "city",
                "value": "Pune",
                "expected": 0.02,
                "actual": 0.3,
                "share_of_change": 0.8,
                "usual_share": 0.1,
            },
        ),
        ("daily_active_users", 2, "down", "warning", True, {}),
        ("view_to_request_rate", 3, "up", "critical", False, {}),
        ("net_revenue", 9, "down", "critical", True, {}),  # older than a week
    ]
    for metric, ago, direction, severity, harmful, breakdown in rows:
        DetectedAnomaly.objects.create(
            metric_name=metric,
            day=today - timedelta(days=ago),
            expected_value=10.0,
            actual_value=30.0 if direction == "up" else 3.0,
            z_score=8.0 if severity == "critical" else 4.0,
            direction=direction,
            severity=severity,
            harmful=harmful,
            breakdown=breakdown,
            detected_at=frozen_now,
        )
    drafts = {d.evidence["metric_name"]: d for d in anomaly_insights(frozen_now).drafts}
    assert set(drafts) == {"payment_failure_rate", "daily_active_users", "view_to_request_rate"}
    assert [drafts[m].priority for m in ("payment_failure_rate", "daily_active_users", "view_to_request_rate")] == [
        "high",
        "medium",
        "low",
    ]
    assert drafts["payment_failure_rate"].suggested_actions[0] == "Start with city Pune: it moved most"
    assert "80% of the change for 10% of the usual total" in drafts["payment_failure_rate"].description
    assert drafts["view_to_request_rate"].is_actionable is False


def test_the_weeks_interval_and_the_confidence_read_the_same_spread() -> None:
    """Catches: an interval that includes last week's figure beside a "confident" change (the sum of the daily
    intervals is far wider than the week's)."""
    expected, low, high = [6_000.0] * 7, [1_000.0] * 7, [11_000.0] * 7
    figures = outlook(expected, low, high, actual=65_000.0)
    sigma = math.sqrt(7 * (10_000 / (2 * 1.2816)) ** 2)
    assert figures["z"] == round((42_000 - 65_000) / sigma, 2) and figures["z"] < -1.96
    assert figures["low_next_7_days"] < 42_000 < figures["high_next_7_days"] < 65_000
    assert figures["change"] == round(42_000 / 65_000 - 1, 3)
    calm = outlook(expected, low, high, actual=44_000.0)
    assert calm["low_next_7_days"] < 44_000 < calm["high_next_7_days"] and abs(calm["z"]) < 1.2816


def test_past_weeks_errors_widen_the_weeks_interval_when_the_days_move_together() -> None:
    """Catches: a week's interval read only from the daily intervals as if days were independent (on the
    simulator it held the next week 3 times in 8). The past weeks' errors, when larger, set the spread."""
    expected, low, high = [6_000.0] * 7, [1_000.0] * 7, [11_000.0] * 7
    independent = math.sqrt(7 * (10_000 / (2 * 1.2816)) ** 2)  # ≈ 10,320
    lumpy = outlook(expected, low, high, actual=65_000.0, errors=[-30_000.0, 30_000.0, -30_000.0, 30_000.0])
    assert lumpy["spread_from"] == "past weeks' errors" and lumpy["past_weeks"] == 4
    # a prediction interval from 4 misses of ₹30,000: Student's t (3 degrees of freedom, 90th percentile
    # 1.6377) × √(1 + 1/4) — wider than the normal's 1.2816 × ₹30,000, as 4 misses are little to go on
    half_width = 30_000 * math.sqrt(1.25) * 1.6377
    assert abs(lumpy["high_next_7_days"] - (42_000 + half_width)) < 5
    assert lumpy["low_next_7_days"] == 0.0  # revenue is never below zero
    assert lumpy["z"] == round((42_000 - 65_000) / (half_width / 1.2816), 2) and lumpy["z"] > -1.96
    steady = outlook(expected, low, high, actual=65_000.0, errors=[1_000.0, -2_000.0])
    assert steady["spread_from"] == "daily intervals"
    assert steady["z"] == round((42_000 - 65_000) / independent, 2)


def test_the_past_weeks_errors_are_the_refit_forecasts_misses_on_whole_weeks() -> None:
    """week_errors refits the forecast before each of the last 6 weeks: on a series whose weeks alternate between
    ₹70,000 and ₹210,000, each refit expects the last week again and misses by a whole lump (±₹140,000) — a
    spread the days' own intervals do not show, and the one the outlook then uses."""
    days = np.concatenate([np.full(7, 30_000.0 if (week % 2) else 10_000.0) for week in range(12)])
    series = Series(date(2026, 1, 5), days)
    errors = week_errors(series)
    assert len(errors) == 6
    assert all(abs(abs(e) - 140_000) < 1_000 for e in errors)
    assert [e > 0 for e in errors] == [True, False, True, False, True, False]  # newest first
    made = forecast(series, 7)
    figures = outlook(list(made.expected), list(made.low), list(made.high), float(days[-7:].sum()), errors=errors)
    assert figures["spread_from"] == "past weeks' errors"
