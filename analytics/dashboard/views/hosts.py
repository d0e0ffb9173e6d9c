"""Host view: one host's own listings — performance, audience (groups under 5 people suppressed),
revenue forecast and upcoming listings' attendance forecasts. A host sees only its own (another host's
id is 404, as in the API); analysts and admins pick any host from the list."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize

from analytics import clock
from analytics.dashboard.access import ANALYSTS, EVERYONE, dashboard_page
from analytics.dashboard.charts import bar_chart, forecast_chart
from analytics.dashboard.formatting import number
from analytics.dashboard.views.common import days_param
from analytics.intelligence.forecasting.service import host_revenue_forecast_get
from analytics.metrics.hosts import host_overview_get
from analytics.metrics.periods import business_day
from analytics.models import BusinessMetric, EventListing, ListingAttendanceForecast
from analytics.models.listings import ListingStatus
from analytics.security.roles import Principal

DAY_CHOICES = (7, 30, 90)
HISTORY_DAYS = 90
HOSTS_SHOWN = 100
UPCOMING_SHOWN = 20


def host_revenue_history(host_id: str, *, today: date) -> list[tuple[date, float | None]]:
    """The host's stored daily net revenue (the metric's `host` breakdown) over the last HISTORY_DAYS; a day
    without a row had no payment of the host's listings, so it is 0."""
    since = today - timedelta(days=HISTORY_DAYS - 1)
    stored = dict(
        BusinessMetric.objects.filter(
            metric_name="net_revenue",
            period_type="day",
            breakdown_key=f"host={host_id}",
            period_start__gte=since,
            period_start__lte=today,
        ).values_list("period_start", "value")
    )
    return [(day, stored.get(day) or 0.0) for day in (since + timedelta(days=n) for n in range(HISTORY_DAYS))]


@dashboard_page(*ANALYSTS)
def host_list_page(request: HttpRequest, *, principal: Principal) -> HttpResponse:
    now = clock.now()
    hosts = list(
        EventListing.objects.exclude(host_id="")
        .values("host_id")
        .annotate(
            listings=Count("id"),
            upcoming=Count("id", filter=Q(starts_at__gte=now, status=ListingStatus.ACTIVE)),
            last_start=Max("starts_at"),
        )
        .order_by("-upcoming", "-listings", "host_id")[:HOSTS_SHOWN]
    )
    return render(request, "dashboard/hosts.html", {"page": "hosts", "principal": principal, "hosts": hosts})


@dashboard_page(*EVERYONE)
def host_page(request: HttpRequest, host_id: str, *, principal: Principal) -> HttpResponse:
    days = days_param(request, default=30, choices=DAY_CHOICES)
    overview = host_overview_get(caller=principal, host_id=host_id, days=days)  # 404 for another host's id
    forecast = host_revenue_forecast_get(caller=principal, host_id=host_id)
    now = clock.now()
    listings = list(
        EventListing.objects.filter(host_id=host_id, starts_at__gte=now, status=ListingStatus.ACTIVE)
        .order_by("starts_at")
        .values("listing_id", "title", "category", "city", "capacity", "starts_at")[:UPCOMING_SHOWN]
    )
    forecasts = {
        f.listing_id: f
        for f in ListingAttendanceForecast.objects.filter(listing_id__in=[u["listing_id"] for u in listings])
    }
    upcoming = []
    for listing in listings:
        found = forecasts.get(listing["listing_id"])
        expected = (
            f"{found.expected_attendance:.0f} (80%: {found.low:.0f}–{found.high:.0f})" if found else "not forecast yet"
        )
        upcoming.append({**listing, "forecast": expected, "confirmed": found.confirmed_seats if found else None})
    headline = [
        (
            "Listings",
            number(overview.listings, "count"),
            f"{overview.active_listings} active, {overview.cancelled_listings} cancelled",
        ),
        ("Views", number(overview.views, "count"), f"{overview.unique_viewers:,} people"),
        ("Requests", number(overview.requests, "count"), f"{overview.seats_requested:,} seats"),
        ("Conversion", number(overview.conversion_rate, "percent"), "view → check-in within 14 days"),
        ("Net revenue", number(overview.revenue, "currency"), "payments − refunds − chargebacks"),
        ("Attendance", number(overview.attendance, "count"), f"seats checked in ({overview.check_ins:,} check-ins)"),
        (
            "Rating",
            number(overview.average_rating, "score"),
            f"{overview.reviews:,} review{pluralize(overview.reviews)}",
        ),
    ]
    charts = [
        forecast_chart(
            "host-revenue",
            f"Daily net revenue (₹), last {HISTORY_DAYS} days and the next 28",
            history=host_revenue_history(host_id, today=business_day(now)),
            in_progress_from=business_day(now),
            forecast=forecast["forecast"],
            y_title="₹ per day",
            note="" if forecast["status"] == "ok" else f"No forecast: {forecast['message']}.",
        ),
        bar_chart(
            "host-audience-city",
            "Audience by city (groups under 5 people not shown)",
            [g.value for g in overview.audience_by_city],
            {"people": [float(g.users) for g in overview.audience_by_city]},
            y_title="people",
        ),
        bar_chart(
            "host-audience-platform",
            "Audience by platform (groups under 5 people not shown)",
            [g.value for g in overview.audience_by_platform],
            {"people": [float(g.users) for g in overview.audience_by_platform]},
            y_title="people",
        ),
    ]
    context = {
        "page": "host",
        "principal": principal,
        "host_id": host_id,
        "days": days,
        "day_choices": DAY_CHOICES,
        "overview": overview,
        "headline": headline,
        "charts": charts,
        "upcoming": upcoming,
    }
    return render(request, "dashboard/host.html", context)
