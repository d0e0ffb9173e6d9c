"""The revenue forecast: the method on series whose shape is known, the rolling-origin backtest, the
level forecast of sparse series, and the stored forecasts of the package's simulated platform."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from analytics.intelligence.forecasting.revenue import LEVEL, Series, backtest, forecast, seasonal_naive
from analytics.intelligence.registry import NotEnoughData, model_active
from analytics.models import RevenueForecast

WEEK = np.array([0.8, 0.9, 0.9, 1.0, 1.2, 1.4, 1.3])


def _growing(days: int, *, seed: int = 1) -> Series:
    """A platform's revenue: growing, with a weekly pattern and day-to-day noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    values = (20_000 + 300 * t) * WEEK[t % 7] * rng.lognormal(0, 0.15, days)
    return Series(date(2026, 1, 5), values)


def test_the_backtest_beats_repeating_last_week_on_a_growing_weekly_series() -> None:
    result = backtest(_growing(120))
    assert result.origins == 6
    assert result.mase < 0.9 * result.snaive_mase, result
    assert 0.6 <= result.coverage <= 0.95, result


def test_a_forecast_has_28_ordered_days_after_the_history_with_its_interval_around_it() -> None:
    series = _growing(90)
    made = forecast(series)
    assert made.method == "ETS(A,Ad,A)" and made.first_day == date(2026, 4, 5)
    assert len(made.expected) == 28 and np.all(made.low <= made.expected) and np.all(made.expected <= made.high)
    weekday_profile = made.expected[:7] / made.expected[:7].mean()
    assert np.corrcoef(weekday_profile, WEEK[(90 + np.arange(7)) % 7])[0, 1] > 0.8  # the weekly pattern carries on


def test_sparse_or_host_series_get_the_level_of_their_last_28_days() -> None:
    lumpy = np.zeros(60)
    lumpy[[10, 11, 30, 40, 47, 52, 53]] = [5000, 3000, 4000, 1500, 2500, 6000, 2000]
    made = forecast(Series(date(2026, 1, 1), lumpy), smoothing=False)
    assert made.method == LEVEL
    assert made.expected == pytest.approx(np.full(28, lumpy[-28:].mean()))
    assert made.low[0] == 0.0 and made.high[0] == pytest.approx(np.quantile(lumpy[-28:], 0.9))
    assert made.high[0] > 0
    assert forecast(Series(date(2026, 1, 1), lumpy)).method == LEVEL  # too few days with revenue to smooth


def test_too_short_a_history_is_not_enough_data() -> None:
    with pytest.raises(NotEnoughData, match="63 days"):
        backtest(_growing(50))
    assert seasonal_naive(np.arange(14.0), 9).tolist() == [7, 8, 9, 10, 11, 12, 13, 7, 8]


@pytest.mark.django_db
def test_the_platform_and_its_hosts_get_stored_forecasts(platform: dict[str, Any]) -> None:
    assert platform["outcomes"]["revenue_forecast"]["status"] == "active", platform["outcomes"]
    row = model_active("revenue_forecast")
    assert row is not None and row.primary_metric == "skill" and row.evaluation["origins"] >= 1
    platform_days = RevenueForecast.objects.filter(scope="")
    assert platform_days.count() == 28 and platform_days.first().method == "ETS(A,Ad,A)"  # type: ignore[union-attr]
    hosts = RevenueForecast.objects.exclude(scope="").values_list("scope", flat=True).distinct()
    assert platform["scoring"]["revenue_scopes"] == 1 + hosts.count() > 1
    assert set(RevenueForecast.objects.exclude(scope="").values_list("method", flat=True)) == {LEVEL}
