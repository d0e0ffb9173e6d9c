"""The overview: headline numbers, KPI / KRI / KR cards with status, daily activity, open alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.dashboard.access import ANALYSTS, dashboard_page
from analytics.dashboard.charts import line_chart
from analytics.dashboard.formatting import card_view, number
from analytics.dashboard.views.common import days_param, points
from analytics.metrics.catalogue import metric_history
from analytics.metrics.overview import overview_get
from analytics.metrics.periods import business_zone
from analytics.security.roles import Principal, Role

DAY_CHOICES = (1, 7, 30, 90)
KIND_ORDER = ("KPI", "KRI", "KR")
CHART_DAYS = 60
# What each conversion figure means (docs/metrics.md holds the exact definitions): they differ on purpose.
CONVERSION_NOTES = {
    "overall_conversion_rate": "view → check-in: viewers who requested, paid (unless free) and checked in within "
    "14 days of the view",
    "view_to_request_rate": "view → request: viewers who requested a listing in the same period",
    "ticket_purchase_success_ratio": "payment → ticket: completed payments per payment attempt",
}


def _clock(instant: datetime | None) -> str:
    return "—" if instant is None else f"{instant.astimezone(business_zone()):%H:%M:%S}"


@dashboard_page(*ANALYSTS)
def overview_page(request: HttpRequest, *, principal: Principal) -> HttpResponse:
    days = days_param(request, default=7, choices=DAY_CHOICES)
    overview = overview_get(days=days)
    cards = [card_view(c, note=CONVERSION_NOTES.get(c.metric_name, "")) for c in overview.kpis]
    headline = [
        ("Tracked events", number(overview.total_events, "count"), "every event except API request logs"),
        ("Active users", number(overview.total_users, "count"), "distinct identified users active"),
        ("New users", number(overview.new_users, "count"), "first active in the range"),
        ("Net revenue", number(overview.total_revenue, "currency"), "payments − refunds − chargebacks"),
        (
            "Active today",
            number(overview.active_users_today, "count"),
            f"live: {overview.events_today:,} events so far today, as of {_clock(overview.today_as_of)}",
        ),
        ("Conversion", number(overview.conversion_rate, "percent"), CONVERSION_NOTES["overall_conversion_rate"]),
        ("Avg session", number(overview.avg_session_length, "minutes"), "sessions that ended in the range"),
    ]
    dau = metric_history(
        metric_name="daily_active_users",
        period_type="day",
        date_from=overview.date_to - timedelta(days=CHART_DAYS - 1),
        date_to=overview.date_to,
    )
    chart = line_chart(
        "daily-active-users",
        f"Daily active users, last {CHART_DAYS} days",
        {"daily active users": points(dau.points)},
        y_title="users",
        note="The hollow marker is today so far.",
        in_progress_from=overview.date_to,
    )
    context = {
        "page": "overview",
        "principal": principal,
        "days": days,
        "day_choices": DAY_CHOICES,
        "overview": overview,
        "headline": headline,
        "card_groups": [(kind, [c for c in cards if c.kind == kind]) for kind in KIND_ORDER],
        "charts": [chart],
        "alerts": overview.alerts,
        "can_manage_alerts": principal.role is Role.ADMIN,
        "insights": overview.top_insights,
    }
    return render(request, "dashboard/overview.html", context)
