"""Daily net revenue for the next 28 days, with 80% intervals — for the whole platform and per host.

The series is the registry's `net_revenue` per business day (payments − refunds − chargebacks, each on
the day it happened), read set-based from the events. The method is exponential smoothing with an
additive damped trend and an additive weekly season (ETS(A,Ad,A), statsmodels), refitted on the newest
data whenever forecasts are made; its intervals are the model's own (10th and 90th percentiles). Training
is a **rolling-origin backtest** on the newest weeks: from each origin (every 7 days) the 28 days after
it are forecast with what was known then, beside the seasonal-naive forecast (each day = the same weekday
of the last observed week). MASE scales both by the in-sample mean absolute weekly difference.

A host's revenue arrives in lumps (a listing's tickets over a few days, then nothing until the next
one): there, exponential smoothing chases the lumps. Hosts get the **level** of their last 28 days — each
day forecast at their mean daily revenue, the interval the 10th and 90th percentiles of those 28 days —
which the evaluation found better on a 28-day total than either smoothing or last week repeated
(docs/evaluation.md). The platform's series falls back to the same level forecast while it is too short
or too sparse for the model (under 35 days, or fewer than 8 days with revenue).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from django.db.models import Sum
from django.db.models.functions import TruncDate

from analytics.intelligence.registry import NotEnoughData, Trained
from analytics.metrics.periods import business_day, business_zone
from analytics.metrics.revenue import REVENUE_EVENTS
from analytics.models import UserEvent

HORIZON_DAYS = 28
SEASON = 7
ALPHA = 0.2  # 80% intervals
MIN_MODEL_DAYS = 35
MIN_ACTIVE_DAYS = 8
BACKTEST_ORIGINS = 6
MIN_TRAINING_DAYS = MIN_MODEL_DAYS + HORIZON_DAYS  # one backtest origin at least
HOST_HISTORY_DAYS = 120


@dataclass(frozen=True)
class Series:
    first_day: date
    values: np.ndarray  # one per business day, first_day … the last complete day

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(len(self.values))]


def revenue_series(*, as_of: datetime, host_ids: list[str] | None = None) -> dict[str, Series]:
    """{"": the platform's series} or, with `host_ids`, {host_id: its series} — up to the last complete
    business day before `as_of`, from the first day with revenue (per scope)."""
    zone = business_zone()
    last_day = business_day(as_of) - timedelta(days=1)
    rows = UserEvent.objects.filter(event_name__in=REVENUE_EVENTS, timestamp__lt=as_of, revenue_impact__isnull=False)
    fields = ["day"]
    if host_ids is not None:
        rows = rows.filter(host_id__in=host_ids, timestamp__gte=as_of - timedelta(days=HOST_HISTORY_DAYS))
        fields = ["host_id", "day"]
    grouped = (
        rows.annotate(day=TruncDate("timestamp", tzinfo=zone)).values(*fields).annotate(total=Sum("revenue_impact"))
    )
    by_scope: dict[str, dict[date, float]] = {}
    for row in grouped.order_by():
        scope = str(row["host_id"]) if host_ids is not None else ""
        by_scope.setdefault(scope, {})[row["day"]] = float(row["total"])
    series = {}
    for scope, totals in by_scope.items():
        first = min(totals)
        if first > last_day:
            continue
        n = (last_day - first).days + 1
        series[scope] = Series(first, np.array([totals.get(first + timedelta(days=i), 0.0) for i in range(n)]))
    return series


@dataclass(frozen=True)
class Forecast:
    first_day: date
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    method: str


def seasonal_naive(values: np.ndarray, horizon: int) -> np.ndarray:
    last_week = values[-SEASON:]
    return np.array([last_week[i % SEASON] for i in range(horizon)], dtype=float)


def _ets(values: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    index = pd.date_range("2000-01-03", periods=len(values), freq="D")  # the day numbers are what matters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ETSModel(
            pd.Series(values, index=index),
            error="add",
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=SEASON,
        ).fit(disp=False)
        frame = fitted.get_prediction(start=len(values), end=len(values) + horizon - 1).summary_frame(alpha=ALPHA)
    return frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy()


def _level(values: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean of the last 28 days for every day ahead; the interval, the 10th and 90th percentiles of those days."""
    recent = values[-4 * SEASON :] if len(values) else np.zeros(1)
    low, high = np.quantile(recent, [ALPHA / 2, 1 - ALPHA / 2])
    return np.full(horizon, float(recent.mean())), np.full(horizon, float(low)), np.full(horizon, float(high))


LEVEL = "level of the last 28 days"


def forecast(series: Series, horizon: int = HORIZON_DAYS, *, smoothing: bool = True) -> Forecast:
    """The next `horizon` days after the series' last day: exponential smoothing (the platform), or the
    level of the last 28 days (`smoothing=False`: hosts; and any series too short or sparse to smooth)."""
    values = series.values
    first = series.first_day + timedelta(days=len(values))
    if smoothing and len(values) >= MIN_MODEL_DAYS and int((values != 0).sum()) >= MIN_ACTIVE_DAYS:
        try:
            mean, low, high = _ets(values, horizon)
            if np.all(np.isfinite(mean)) and np.all(np.isfinite(low)) and np.all(np.isfinite(high)):
                return Forecast(first, mean, low, high, "ETS(A,Ad,A)")
        except (ValueError, np.linalg.LinAlgError):
            pass  # a degenerate series (constant, …): the fallback below
    mean, low, high = _level(values, horizon)
    return Forecast(first, mean, low, high, LEVEL)


@dataclass(frozen=True)
class Backtest:
    origins: int
    mase: float
    snaive_mase: float
    coverage: float  # share of actual days inside the 80% interval
    wape: float
    snaive_wape: float

    @property
    def skill(self) -> float:
        """1 − MASE ÷ seasonal-naive MASE: higher is better, 0 = no better than repeating last week."""
        return 1.0 - self.mase / self.snaive_mase if self.snaive_mase > 0 else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "origins": self.origins,
            "mase": self.mase,
            "snaive_mase": self.snaive_mase,
            "mase_ratio": self.mase / self.snaive_mase if self.snaive_mase else math.nan,
            "skill": self.skill,
            "coverage": self.coverage,
            "wape": self.wape,
            "snaive_wape": self.snaive_wape,
        }


def backtest(series: Series, *, origins: int = BACKTEST_ORIGINS, horizon: int = HORIZON_DAYS) -> Backtest:
    """Rolling origin: the last `origins` origins 7 days apart whose `horizon` days are all observed."""
    values = series.values
    last_origin = len(values) - horizon
    starts = [o for o in range(last_origin, MIN_MODEL_DAYS - 1, -SEASON)][:origins]
    if not starts:
        raise NotEnoughData(
            "revenue_forecast",
            needed=f"{MIN_TRAINING_DAYS} days of revenue history",
            found=f"{len(values)} days",
        )
    errors, naive_errors, scales, covered, actual_total = [], [], [], 0, 0.0
    for origin in sorted(starts):
        train, test = values[:origin], values[origin : origin + horizon]
        made = forecast(Series(series.first_day, train), horizon)
        scale = float(np.mean(np.abs(train[SEASON:] - train[:-SEASON]))) or 1.0
        errors.append(np.abs(test - made.expected) / scale)
        naive_errors.append(np.abs(test - seasonal_naive(train, horizon)) / scale)
        scales.append(scale)
        covered += int(((test >= made.low) & (test <= made.high)).sum())
        actual_total += float(np.abs(test).sum())
    absolute = sum(float((e * s).sum()) for e, s in zip(errors, scales, strict=True))
    naive_absolute = sum(float((e * s).sum()) for e, s in zip(naive_errors, scales, strict=True))
    return Backtest(
        origins=len(starts),
        mase=float(np.mean([e.mean() for e in errors])),
        snaive_mase=float(np.mean([e.mean() for e in naive_errors])),
        coverage=covered / (len(starts) * horizon),
        wape=absolute / actual_total if actual_total else math.nan,
        snaive_wape=naive_absolute / actual_total if actual_total else math.nan,
    )


@dataclass(frozen=True)
class RevenueMethod:
    """What the registry stores: the method and its settings (the model is refitted on fresh data)."""

    method: str = "ETS(A,Ad,A)"
    season: int = SEASON
    horizon: int = HORIZON_DAYS
    interval: float = 1 - ALPHA


class RevenueForecastSpec:
    name = "revenue_forecast"
    minimum_data = (
        f"{MIN_TRAINING_DAYS} days of platform revenue history ({MIN_MODEL_DAYS} to fit and {HORIZON_DAYS} to check "
        "one forecast against)"
    )

    def train(self, *, as_of: datetime) -> Trained:
        series = revenue_series(as_of=as_of).get("")
        if series is None:
            raise NotEnoughData(self.name, needed=self.minimum_data, found="no revenue yet")
        result = backtest(series)
        last_day = series.first_day + timedelta(days=len(series.values) - 1)
        return Trained(
            estimator=RevenueMethod(),
            algorithm="exponential smoothing ETS(A,Ad,A), weekly season (statsmodels), refitted when forecasting",
            features=("daily net revenue",),
            training_rows=len(series.values),
            training_start=datetime.combine(series.first_day, datetime.min.time(), tzinfo=business_zone()),
            training_end=datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=business_zone()),
            evaluated_on=as_of,
            evaluation={**result.as_dict(), "label": "daily net revenue, 28 days ahead, rolling origin"},
            primary_metric="skill",
            evaluate_other=lambda estimator: result.skill if isinstance(estimator, RevenueMethod) else None,
        )


REVENUE_FORECAST = RevenueForecastSpec()
