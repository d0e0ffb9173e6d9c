"""Revenue: daily net revenue with the 28-day forecast and its 80% band, anomalies marked, payment risks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.dashboard.access import ANALYSTS, dashboard_page
from analytics.dashboard.charts import Chart, forecast_chart, line_chart
from analytics.dashboard.formatting import card_view, number
from analytics.dashboard.views.common import points
from analytics.intelligence.anomalies.service import anomalies_list
from analytics.intelligence.forecasting.service import revenue_forecast_get
from analytics.metrics.analyses import week_start
from analytics.metrics.catalogue import metric_cards, metric_history
from analytics.metrics.periods import business_today
from analytics.security.roles import Principal

HISTORY_DAYS = 90
PAYMENT_CARDS = (
    "payment_success_rate",
    "payment_failure_rate",
    "refund_rate",
    "chargeback_rate",
    "revenue_per_paying_user",
)
ANOMALY_SERIES = {"net_revenue": "net revenue", "payment_failure_rate": "payment failure rate"}


def anomaly_marks(anomalies: list[dict[str, Any]], metric: str) -> list[tuple[date, float, str]]:
    """The anomalies of one series as chart markers: (day, observed value, what was expected)."""
    return [
        (a["date"], float(a["actual_value"]), f"{a['severity']}: expected {a['expected_value']:,.1f}")
        for a in anomalies
        if a["metric_name"] == metric and a["actual_value"] is not None
    ]


def _series_chart(metric: str, title: str, unit_title: str, anomalies: list[dict[str, Any]]) -> Chart:
    today = business_today()
    history = metric_history(
        metric_name=metric, period_type="day", date_from=today - timedelta(days=HISTORY_DAYS - 1), date_to=today
    )
    marks = anomaly_marks(anomalies, metric)
    return forecast_chart(
        f"{metric}-history",
        title,
        history=points(history.points),
        forecast=(),
        anomalies=marks,
        y_title=unit_title,
        in_progress_from=today,
    )


@dashboard_page(*ANALYSTS)
def revenue_page(request: HttpRequest, *, principal: Principal) -> HttpResponse:
    today = business_today()
    anomalies = anomalies_list(days=HISTORY_DAYS)
    history = metric_history(
        metric_name="net_revenue", period_type="day", date_from=today - timedelta(days=HISTORY_DAYS - 1), date_to=today
    )
    forecast = revenue_forecast_get()
    marks = anomaly_marks(anomalies, "net_revenue")
    status_note = (
        f"Forecast: ₹{forecast['total_expected']:,.0f} expected over the next {forecast['days']} days "
        f"({forecast['method']}, model v{forecast['model_version']})."
        if forecast["status"] == "ok"
        else f"No forecast: {forecast['message']}."
    )
    charts = [
        forecast_chart(
            "revenue",
            f"Daily net revenue (₹), last {HISTORY_DAYS} days and the next {forecast['days']}",
            history=points(history.points),
            forecast=forecast["forecast"],
            anomalies=marks,
            y_title="₹ per day",
            note=status_note + " The hollow marker is today so far.",
            in_progress_from=today,
        ),
        _series_chart("payment_failure_rate", "Payment failure rate per day (%)", "%", anomalies),
    ]
    weekly = metric_history(
        metric_name="net_revenue", period_type="week", date_from=today - timedelta(days=7 * 26), date_to=today
    )
    charts.append(
        line_chart(
            "revenue-weekly",
            "Net revenue per week (₹)",
            {"net revenue": points(weekly.points)},
            y_title="₹ per week",
            in_progress_from=week_start(today),
        )
    )
    cards = [card_view(c) for c in metric_cards(today=today) if c.metric_name in PAYMENT_CARDS]
    context = {
        "page": "revenue",
        "principal": principal,
        "charts": charts,
        "cards": cards,
        "anomalies": [
            {
                **a,
                "label": ANOMALY_SERIES.get(str(a["metric_name"]), a["metric_name"]),
                "expected": number(a["expected_value"], "count"),
                "actual": number(a["actual_value"], "count"),
            }
            for a in anomalies
        ],
        "forecast": forecast,
    }
    return render(request, "dashboard/revenue.html", context)
