"""The detector on series whose truth is known: a drop in a weekly pattern, rates judged by their
counts, confirmation over two days, and an earlier incident that must not hide the next."""

from __future__ import annotations

import numpy as np

from analytics.intelligence.anomalies.detector import confirmed, surprises

WEEK = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.25])


def _counts(days: int = 60, *, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    return rng.poisson((400 + 3 * t) * WEEK[t % 7]).astype(float), t % 7


def _flagged(kind: str, values: np.ndarray, weekdays: np.ndarray, n: np.ndarray | None = None) -> dict[int, float]:
    return {
        s.index: s.z
        for s in confirmed(surprises(kind=kind, values=values, weekdays=weekdays, denominators=n), kind=kind)
    }


def test_a_drop_to_a_third_is_found_on_its_day_and_a_normal_series_raises_nothing() -> None:
    values, weekdays = _counts()
    assert _flagged("count", values, weekdays) == {}
    values[50] /= 3
    flagged = _flagged("count", values, weekdays)
    assert list(flagged) == [50] and flagged[50] < -4
    expected = surprises(kind="count", values=values, weekdays=weekdays)[50]
    assert expected is not None and abs(expected.expected - (400 + 150) * WEEK[50 % 7]) < 60  # trend and weekday


def test_nothing_is_judged_before_28_days_of_history() -> None:
    values, weekdays = _counts(40)
    judged = surprises(kind="count", values=values, weekdays=weekdays)
    assert all(s is None for s in judged[:28]) and all(s is not None for s in judged[28:])


def test_a_rate_is_judged_by_its_counts() -> None:
    """The same jump from 7% to 25% is noise on 12 attempts and an incident on 12,000."""
    rng = np.random.default_rng(5)
    weekdays = np.arange(40) % 7
    for attempts, expected_flag in ((12, False), (12_000, True)):
        n = np.full(40, float(attempts))
        k = rng.binomial(attempts, 0.07, 40).astype(float)
        k[-1] = round(0.25 * attempts)
        flagged = _flagged("rate", k, weekdays, n)
        assert (39 in flagged) is expected_flag, (attempts, flagged)


def test_a_moderate_change_is_confirmed_on_its_second_day_only() -> None:
    weekdays = np.arange(40) % 7
    n = np.full(40, 10_000.0)
    rng = np.random.default_rng(9)
    k = rng.binomial(10_000, 0.05, 40).astype(float)
    k[37] = k[38] = 10_000 * 0.05 + 3 * np.sqrt(10_000 * 0.05 * 0.95)  # 3 standard deviations, two days
    flagged = _flagged("rate", k, weekdays, n)
    assert 38 in flagged and 37 not in flagged


def test_an_earlier_incident_in_the_history_does_not_hide_the_next() -> None:
    weekdays = np.arange(60) % 7
    n = np.full(60, 300.0)
    rng = np.random.default_rng(13)
    k = rng.binomial(300, 0.07, 60).astype(float)
    k[45] = k[46] = 0.35 * 300  # an incident two weeks before …
    k[59] = 0.3 * 300  # … and the next one
    flagged = _flagged("rate", k, weekdays, n)
    assert {45, 59} <= set(flagged)
    assert all(day in (45, 46, 59) for day in flagged)
