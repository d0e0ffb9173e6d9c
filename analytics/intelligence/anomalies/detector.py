"""Anomaly detection on one daily series: what was expected for a day, how surprising the day was, and
whether it is confirmed — pure functions on arrays, shared by the service and the evaluation.

- **Counts and amounts** (active users, revenue): log1p(value) is fitted on the history before the day
  (at most 56 days, at least 28) by a robust (Huber) regression on a linear trend and the weekday; the
  expectation is that fit at the day; the surprise is the day's residual in robust standard deviations
  (1.4826 × the median absolute residual of the history). A series whose history is mostly empty days
  (over a quarter at zero: a platform's first weeks of sales) is not judged.
- **Rates** (payment failures of attempts, API errors of calls, requesters of viewers): the expected rate
  is the history's pooled rate (its last 28 days), and the surprise respects the counts — Anscombe's
  arcsine deviate of k of n from that rate, 2·√(n + ½)·(asin √((k + ⅜)/(n + ¾)) − asin √p), divided by
  √φ, the history's own over-dispersion: 3 failures of 12 attempts are not judged like 3,000 of 12,000,
  and 2 API errors where 0.1 were expected are not a six-sigma event. φ is estimated robustly (the
  median squared deviate ÷ 0.455), and history days that were themselves more than 3 standard
  deviations out (an earlier incident) are left out of p and φ.
- **Confirmation.** A day is anomalous when its surprise is at least 3.5 standard deviations for a rate
  or 4 for a count or amount, or at least 2.5 on that day and the day before in the same direction (a
  change that lasts is confirmed on its second day; a violent one on its first). A rate's deviate comes
  from a count model (binomial with the history's over-dispersion), a count's from the residuals of a
  regression, whose tails are heavier (a festival weekend's revenue): the thresholds were chosen on
  simulated platforms other than those `make eval` reports (docs/predictions.md, "Anomalies").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import HuberRegressor

MIN_HISTORY_DAYS = 28
MAX_HISTORY_DAYS = 56
RATE_HISTORY_DAYS = 28
Z_SINGLE = {"rate": 3.5, "count": 4.0, "amount": 4.0}  # one day alone, by the series' kind
Z_CONFIRM = 2.5
HISTORY_TRIM_Z = 3.0  # history days this far out are left out of a rate's baseline
CHI2_MEDIAN = 0.455  # the median of a χ² with one degree of freedom
MIN_POSITIVE_SHARE = 0.75  # of a count's history days above zero, for the count to be judged
MIN_SCALE = 0.05  # of log1p units: a perfectly regular history does not make every wobble a 10-sigma event


@dataclass(frozen=True)
class DaySurprise:
    index: int
    actual: float
    expected: float
    z: float


def _count_surprise(values: np.ndarray, weekdays: np.ndarray, day: int) -> DaySurprise | None:
    start = max(0, day - MAX_HISTORY_DAYS)
    if day - start < MIN_HISTORY_DAYS:
        return None
    if np.mean(values[start:day] > 0) < MIN_POSITIVE_SHARE:
        return None  # mostly empty days (a platform's first weeks): a log-scale fit would call any sale a wonder
    history = np.log1p(np.maximum(values[start:day], 0.0))
    t = np.arange(start, day, dtype=float)

    def design(times: np.ndarray, days_of_week: np.ndarray) -> np.ndarray:
        onehot = np.zeros((len(times), 6))
        for column in range(6):
            onehot[:, column] = days_of_week == column
        return np.column_stack([(times - day) / 28.0, onehot])

    model = HuberRegressor(max_iter=200, alpha=1e-4).fit(design(t, weekdays[start:day]), history)
    fitted = model.predict(design(t, weekdays[start:day]))
    scale = max(1.4826 * float(np.median(np.abs(history - fitted))), MIN_SCALE)
    predicted = float(model.predict(design(np.array([float(day)]), weekdays[day : day + 1]))[0])
    actual = float(values[day])
    z = (math.log1p(max(actual, 0.0)) - predicted) / scale
    return DaySurprise(day, actual, float(np.expm1(predicted)), z)


def _deviates(k: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """Anscombe's arcsine deviates of k successes in n trials from the rate p: about N(0, 1) for a binomial
    count, from a handful of events to millions — unlike (k − n·p) ÷ √(n·p·(1 − p)), which makes two
    errors where 0.1 were expected look like a six-sigma event."""
    observed = np.arcsin(np.sqrt((k + 0.375) / (n + 0.75)))
    return (observed - math.asin(math.sqrt(p))) * 2.0 * np.sqrt(n + 0.5)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def _pooled(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """The pooled rate of the days and their over-dispersion φ ≥ 1, robustly: the median squared deviate
    ÷ 0.455 (the median of a χ² with one degree of freedom), which a few odd days cannot inflate."""
    total = float(n.sum())
    p = min(max(float(k.sum()) / total, 0.5 / total), 1 - 0.5 / total)
    squared = _deviates(k, n, p) ** 2
    return p, max(1.0, float(np.median(squared)) / CHI2_MEDIAN) if len(squared) else 1.0


def _rate_surprise(numerators: np.ndarray, denominators: np.ndarray, day: int) -> DaySurprise | None:
    start = max(0, day - RATE_HISTORY_DAYS)
    if day - start < MIN_HISTORY_DAYS or denominators[day] <= 0:
        return None
    seen = denominators[start:day] > 0
    k_hist, n_hist = numerators[start:day][seen], denominators[start:day][seen]
    if n_hist.sum() <= 0:
        return None
    # Robust: days of the history that were themselves far out (an earlier incident) are left out of the
    # rate and of its spread, so that one incident does not hide the next. They are found against the
    # median daily rate (weighted by the days' counts), which a few incident days cannot move.
    p = _weighted_median(k_hist / n_hist, n_hist)
    p = min(max(p, 0.5 / float(n_hist.sum())), 1 - 0.5 / float(n_hist.sum()))
    dispersion = max(1.0, float(np.median(_deviates(k_hist, n_hist, p) ** 2)) / CHI2_MEDIAN)
    typical = np.abs(_deviates(k_hist, n_hist, p)) / math.sqrt(dispersion) < HISTORY_TRIM_Z
    if typical.sum() >= MIN_HISTORY_DAYS // 2:
        p, dispersion = _pooled(k_hist[typical], n_hist[typical])
    k, n = float(numerators[day]), float(denominators[day])
    z = float(_deviates(np.array([k]), np.array([n]), p)[0]) / math.sqrt(dispersion)
    return DaySurprise(day, 100.0 * k / n, 100.0 * p, z)


def surprises(
    *, kind: str, values: np.ndarray, weekdays: np.ndarray, denominators: np.ndarray | None = None
) -> list[DaySurprise | None]:
    """The surprise of every day of the series (None while its history is too short or it has no data)."""
    found: list[DaySurprise | None] = []
    for day in range(len(values)):
        if kind == "rate":
            assert denominators is not None
            found.append(_rate_surprise(values, denominators, day))
        else:
            found.append(_count_surprise(values, weekdays, day))
    return found


def confirmed(days: list[DaySurprise | None], *, kind: str) -> list[DaySurprise]:
    """The anomalous days of a series of `kind`: |z| ≥ Z_SINGLE[kind], or |z| ≥ Z_CONFIRM on that day and
    the one before, same sign."""
    single = Z_SINGLE[kind]
    anomalous = []
    for i, today in enumerate(days):
        if today is None or not math.isfinite(today.z):
            continue
        if abs(today.z) >= single:
            anomalous.append(today)
            continue
        before = days[i - 1] if i > 0 else None
        if (
            abs(today.z) >= Z_CONFIRM
            and before is not None
            and abs(before.z) >= Z_CONFIRM
            and math.copysign(1, before.z) == math.copysign(1, today.z)
        ):
            anomalous.append(today)
    return anomalous
