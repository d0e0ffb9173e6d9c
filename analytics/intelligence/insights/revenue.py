"""Revenue outlook: the next 7 days of the active revenue forecast against the last 7 days as they happened,
for the platform (always reported, so the outlook is on the list even when it is calm). Hosts get no revenue
insight: a host's forecast is the level of their last 28 days, so "next week below last week" would only say
that last week's lump of ticket sales was a lump; their forecast is shown as such on their insights page.

The week's spread σ_week is the larger of two readings: the forecast's own daily 80% intervals taken as
independent normals (σ_day = (high − low) / 2.563, √Σσ_day²), and the forecast's misses on the 7-day totals
of the last 6 weeks, each refit on the days before it — their root mean square, widened as a prediction
interval from n past misses is (Student's t with n − 1 degrees of freedom, × √(1 + 1/n)). Days of one week move
together — a lump of ticket sales, a quiet week — far more than independence allows: measured on the
simulator, the independent reading alone held the next week's revenue in its "80%" interval 3 weeks in 8.
The week's 80% interval and the confidence of the change are both read from σ_week, so an interval that
leaves out last week's figure goes with a confident change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from scipy.stats import t as student_t

from analytics.intelligence.forecasting.revenue import MIN_MODEL_DAYS, SEASON, Series, forecast, revenue_series
from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS, Findings, InsightDraft, NotEnoughData, z_confidence
from analytics.intelligence.registry import model_active
from analytics.metrics.display import CURRENCY
from analytics.metrics.periods import business_day
from analytics.models import RevenueForecast

INSIGHT_TYPE = "revenue_outlook"
DAYS = 7
Z80 = 1.2816
WEEK_ORIGINS = 6


def _money(value: float) -> str:
    return f"{CURRENCY}{value:,.0f}"


def week_errors(series: Series, *, origins: int = WEEK_ORIGINS) -> list[float]:
    """The forecast's errors (actual − expected) on the 7-day totals of the last `origins` complete weeks of
    `series`, each forecast refit on the days before it (as many as the history allows)."""
    values = series.values
    starts = [o for o in range(len(values) - DAYS, MIN_MODEL_DAYS - 1, -SEASON)][:origins]
    return [
        float(values[o : o + DAYS].sum() - forecast(Series(series.first_day, values[:o]), DAYS).expected.sum())
        for o in starts
    ]


def outlook(
    expected: list[float], low: list[float], high: list[float], actual: float, *, errors: Sequence[float] = ()
) -> dict[str, Any]:
    """The next 7 days against the last 7: the week's total, its 80% interval and the change's z, from the
    larger of the daily intervals' σ (taken as independent) and the past weeks' errors' root mean square."""
    total = sum(expected)
    independent = math.sqrt(sum(((h - lo) / (2 * Z80)) ** 2 for lo, h in zip(low, high, strict=True)))
    past = 0.0
    if len(errors) >= 2:  # a prediction interval from n past misses: Student's t, and √(1 + 1/n) for the next one
        n = len(errors)
        rms = math.sqrt(sum(e * e for e in errors) / n)
        past = rms * math.sqrt(1 + 1 / n) * float(student_t.ppf(0.9, n - 1)) / Z80
    sigma = max(independent, past)
    change = (total - actual) / actual if actual > 0 else None
    return {
        "expected_next_7_days": round(total, 2),
        # the 7-day total's own 80% interval, as the confidence reads it (not the sum of the daily ones)
        "low_next_7_days": round(max(total - Z80 * sigma, 0.0), 2),
        "high_next_7_days": round(total + Z80 * sigma, 2),
        "actual_last_7_days": round(actual, 2),
        "change": None if change is None else round(change, 3),
        "z": round((total - actual) / sigma, 2) if sigma > 0 else 0.0,
        "spread_from": "past weeks' errors" if past > independent else "daily intervals",
        "past_weeks": len(errors),
    }


def _describe(scope: str, figures: dict[str, Any]) -> tuple[str, str]:
    change = figures["change"]
    if change is None:
        direction = "with no revenue in the last 7 days"
    else:
        direction = f"{abs(change) * 100:.0f}% {'above' if change >= 0 else 'below'} the last 7 days"
    title = (
        f"{scope} net revenue for the next 7 days forecast at {_money(figures['expected_next_7_days'])}, {direction}"
    )
    description = (
        f"The revenue forecast expects {_money(figures['expected_next_7_days'])} of net revenue over the next 7 days "
        f"(80% interval of the week {_money(figures['low_next_7_days'])}–{_money(figures['high_next_7_days'])}), "
        f"against {_money(figures['actual_last_7_days'])} in the last 7 complete days."
    )
    return title, description


def revenue_outlook(now: datetime) -> Findings:
    findings = Findings()
    model = model_active("revenue_forecast")
    if model is None:
        findings.not_enough_data.append(NotEnoughData(INSIGHT_TYPE, "platform", 0, MIN_OBSERVATIONS, "days of revenue"))
        return findings
    today = business_day(now)
    rows = list(RevenueForecast.objects.filter(scope="", day__gte=today).order_by("day")[:DAYS])
    series = revenue_series(as_of=now)
    platform = series.get("")
    history = 0 if platform is None else len(platform.values)
    if platform is None or history < MIN_OBSERVATIONS or len(rows) < DAYS:
        findings.not_enough_data.append(NotEnoughData(INSIGHT_TYPE, "platform", history, unit="days of revenue"))
    else:
        figures = outlook(
            [r.expected for r in rows],
            [r.low for r in rows],
            [r.high for r in rows],
            float(platform.values[-DAYS:].sum()),
            errors=week_errors(platform),
        )
        title, description = _describe("Platform", figures)
        falling = figures["z"] <= -1.96 and (figures["change"] or 0) <= -0.1
        findings.drafts.append(
            InsightDraft(
                insight_type=INSIGHT_TYPE,
                dedup_key=f"{INSIGHT_TYPE}:platform",
                title=title,
                description=description,
                confidence=z_confidence(figures["z"]),
                priority="high" if falling else ("medium" if (figures["change"] or 0) <= -0.1 else "low"),
                suggested_actions=(
                    ["Promote the listings of the coming week that still have seats", "Ask top hosts to add dates"]
                    if (figures["change"] or 0) < 0
                    else ["Make sure listings of the coming week have the seats the demand needs"]
                ),
                target_type="platform",
                evidence={
                    **figures,
                    "history_days": history,
                    "method": rows[0].method,
                    "comparison_group": "the last 7 complete business days",
                },
                model_name="revenue_forecast",
                model_version=str(rows[0].model_version),
                is_actionable=(figures["change"] or 0) < 0,
            )
        )
    return findings
