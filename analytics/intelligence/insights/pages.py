"""A host's and a listing's insights page: performance, audience (aggregates, groups under 5 people
suppressed), forecast and suggestions in one answer, scoped so a host sees only their own (another host's
or listing's id → 404, as if it did not exist)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import Q

from analytics import clock
from analytics.intelligence.attendance.service import listing_forecast_of
from analytics.intelligence.forecasting.service import host_revenue_forecast_get
from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS
from analytics.intelligence.insights.hosts import host_data_check
from analytics.intelligence.insights.store import InsightQuery, insight_as_dict, insight_list
from analytics.metrics.hosts import host_overview_get, listing_access, listing_totals, viewer_audience
from analytics.models import UserEvent
from analytics.security.roles import Principal

SUGGESTIONS_LIMIT = 20


def _suggestions(caller: Principal, scope: Q) -> list[dict[str, Any]]:
    page = insight_list(caller=caller, query=InsightQuery(limit=SUGGESTIONS_LIMIT), scope=scope)
    return [insight_as_dict(row) for row in page.insights]


def host_insights_get(*, caller: Principal, host_id: str, days: int = 30) -> dict[str, Any]:
    overview = host_overview_get(caller=caller, host_id=host_id, days=days)  # 404 for another host
    suggestions = _suggestions(caller, Q(host_id=host_id))
    status, message = "ok", ""
    if not suggestions:
        thin = host_data_check(clock.now(), host_id=host_id)
        if thin is not None:
            status, message = "not_enough_data", thin.message
        else:
            status, message = "no_suggestions", "nothing stands out: no suggestion for this host right now"
    return {
        "host_id": host_id,
        "status": status,
        "message": message,
        "performance": asdict(overview),
        "forecast": host_revenue_forecast_get(caller=caller, host_id=host_id, days=28),
        "suggestions": suggestions,
    }


def listing_insights_get(*, caller: Principal, listing_id: str) -> dict[str, Any]:
    listing = listing_access(caller=caller, listing_id=listing_id)
    totals = listing_totals([listing_id])
    views, requests, reviews = (totals.events(n) for n in ("event_viewed", "event_requested", "review_submitted"))
    viewers = UserEvent.objects.filter(event_name="event_viewed", listing_id=listing_id, user_id__isnull=False)
    performance = {
        "views": views,
        "unique_viewers": viewers.values("user_id").distinct().count(),
        "requests": requests,
        "seats_requested": totals.seats("event_requested"),
        "capacity": listing.capacity,
        "view_to_request_rate": round(100 * requests / views, 2) if views >= MIN_OBSERVATIONS else None,
        "revenue": totals.revenue,
        "attendance": totals.seats("event_checked_in"),
        "reviews": reviews,
        "average_rating": round(totals.rating_sum("review_submitted") / reviews, 2) if reviews else None,
    }
    by_city, by_platform = viewer_audience(viewers)
    audience = {"by_city": [asdict(g) for g in by_city], "by_platform": [asdict(g) for g in by_platform]}
    suggestions = _suggestions(caller, Q(target_type="listing", target_id=listing_id))
    status, message = "ok", ""
    if views < MIN_OBSERVATIONS:
        status = "not_enough_data"
        message = f"not enough data: {views} views, at least {MIN_OBSERVATIONS} needed for rates and suggestions"
    elif not suggestions:
        status, message = "no_suggestions", "nothing stands out: no suggestion for this listing right now"
    return {
        "listing_id": listing_id,
        "host_id": listing.host_id,
        "category": listing.category,
        "city": listing.city,
        "status": status,
        "message": message,
        "performance": performance,
        "audience": audience,
        "forecast": listing_forecast_of(listing),
        "suggestions": suggestions,
    }
