"""Trends with breakdowns, the marketplace funnel (and a custom one), retention cohorts, lifecycle and
stickiness — the analyses of the API, drawn."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.collection.tracking_plan import TRACKING_PLAN
from analytics.dashboard.access import ANALYSTS, dashboard_page
from analytics.dashboard.charts import Chart, bar_chart, heatmap_chart, line_chart
from analytics.dashboard.views.common import choice_param, range_param
from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.funnels import DEFAULT_STEPS, MAX_STEPS, FunnelQuery, FunnelResult, funnel_run
from analytics.metrics.analyses.lifecycle import LifecycleQuery, lifecycle_run
from analytics.metrics.analyses.retention import RetentionQuery, retention_run
from analytics.metrics.analyses.stickiness import StickinessQuery, stickiness_run
from analytics.metrics.analyses.trends import TrendsQuery, trends_run
from analytics.metrics.periods import business_today
from analytics.security.roles import Principal

TREND_BREAKDOWNS = {"": "nothing", "platform": "platform", "city": "city"}
RETENTION_WEEKS = 8
MAX_SERIES_SHOWN = 8


def _trend_chart(event: str, rng: DateRange, breakdown: str) -> Chart:
    result = trends_run(query=TrendsQuery(event=event, range=rng, breakdown=breakdown or None))
    series = sorted(result.series, key=lambda s: -s.total)[:MAX_SERIES_SHOWN]
    return line_chart(
        "trend",
        f"{event} per day" + (f" by {breakdown}" if breakdown else ""),
        {s.breakdown_value or "all": [(d, float(v)) for d, v in s.points] for s in series},
        y_title="events",
        note="Hollow markers: today so far.",
        in_progress_from=business_today(),
    )


def _funnel_chart(chart_id: str, title: str, result: FunnelResult) -> Chart:
    steps = result.overall.steps
    return bar_chart(
        chart_id,
        title,
        [s.event_name for s in steps],
        {"people": [float(s.count) for s in steps]},
        y_title="people",
        text=[
            "100%" if s.conversion_from_previous is None else f"{s.conversion_from_previous:.1f}% of previous"
            for s in steps
        ],
        note=(
            f"{result.overall.entrants:,} entrants, {result.overall.converted:,} completed "
            f"({result.overall.conversion_rate or 0:.1f}%); drop-off between bars is the share lost at that step."
        ),
    )


def _custom_steps(raw: str) -> tuple[str, ...]:
    steps = tuple(s.strip() for s in raw.split(",") if s.strip())
    unknown = [s for s in steps if s not in TRACKING_PLAN]
    if unknown:
        raise ValidationFailed(f"unknown event in the funnel: {', '.join(unknown)}", code="unknown_event")
    if not 2 <= len(steps) <= MAX_STEPS:
        raise ValidationFailed(f"a custom funnel has 2…{MAX_STEPS} steps", code="invalid_steps")
    return steps


@dashboard_page(*ANALYSTS)
def trends_page(request: HttpRequest, *, principal: Principal) -> HttpResponse:
    rng = range_param(request, default_days=30)
    event = choice_param(request, "event", sorted(TRACKING_PLAN), "event_viewed")
    breakdown = choice_param(request, "breakdown", TREND_BREAKDOWNS, "")
    charts = [_trend_chart(event, rng, breakdown)]
    marketplace = funnel_run(query=FunnelQuery(range=rng))
    charts.append(_funnel_chart("funnel", "Marketplace funnel: view → request → payment → check-in", marketplace))
    custom_raw = request.GET.get("steps", "").strip()
    if custom_raw:
        steps = _custom_steps(custom_raw)
        custom = funnel_run(query=FunnelQuery(range=rng, steps=steps))
        charts.append(_funnel_chart("custom-funnel", "Your funnel: " + " → ".join(steps), custom))
    cohorts = DateRange(rng.date_to - timedelta(days=7 * RETENTION_WEEKS - 1), rng.date_to)
    retention = retention_run(query=RetentionQuery(range=cohorts, period="week", intervals=RETENTION_WEEKS))
    charts.append(
        heatmap_chart(
            "retention",
            "Weekly retention cohorts (% of each first-week cohort active n weeks later)",
            rows=[f"{c.cohort_start:%d %b} ({c.size:,})" for c in retention.cohorts],
            columns=[f"week {n}" for n in range(RETENTION_WEEKS)],
            values=[c.rates for c in retention.cohorts],
            note="Blank cells: that week has not ended yet.",
        )
    )
    lifecycle = lifecycle_run(query=LifecycleQuery(range=rng, interval="week"))
    labels = [f"{p.period_start:%d %b}" for p in lifecycle.points]
    charts.append(
        bar_chart(
            "lifecycle",
            "Lifecycle per week: new, returning, resurrecting and dormant users",
            labels,
            {
                "new": [float(p.new) for p in lifecycle.points],
                "returning": [float(p.returning) for p in lifecycle.points],
                "resurrecting": [float(p.resurrecting) for p in lifecycle.points],
                "dormant": [-float(p.dormant) for p in lifecycle.points],
            },
            y_title="users",
            stacked=True,
        )
    )
    stickiness = stickiness_run(query=StickinessQuery(range=rng))
    charts.append(
        bar_chart(
            "stickiness",
            "Stickiness: users by number of active days in the range",
            [str(k) for k, _ in stickiness.distribution],
            {"users": [float(n) for _, n in stickiness.distribution]},
            y_title="users",
            note=(
                f"Average DAU ÷ unique users: {stickiness.dau_over_unique:.1f}%"
                if stickiness.dau_over_unique is not None
                else "No active users in the range."
            ),
        )
    )
    context = {
        "page": "trends",
        "principal": principal,
        "range": rng,
        "event": event,
        "events": sorted(TRACKING_PLAN),
        "breakdown": breakdown,
        "breakdowns": TREND_BREAKDOWNS,
        "steps": custom_raw,
        "default_steps": ", ".join(DEFAULT_STEPS),
        "charts": charts,
    }
    return render(request, "dashboard/trends.html", context)
