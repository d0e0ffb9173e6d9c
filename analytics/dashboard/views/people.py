"""People: personas (size, traits), churn-risk cohorts from the behaviour profiles, sentiment over time
with example reviews (scrubbed of personal data again before they are shown)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.dashboard.access import ANALYSTS, dashboard_page
from analytics.dashboard.charts import bar_chart, line_chart
from analytics.dashboard.views.common import points
from analytics.intelligence.segments.service import persona_list
from analytics.metrics.analyses import week_start
from analytics.metrics.catalogue import metric_history
from analytics.metrics.periods import business_today
from analytics.models import UserBehaviorProfile, UserEvent
from analytics.privacy.encryption import properties_decrypt
from analytics.privacy.scrubbing import scrub_text
from analytics.security.roles import Principal

# Churn-risk cohorts: calibrated probability of no activity in the next 30 days (docs/predictions.md).
CHURN_BANDS = (("low", 0.0, 0.3), ("medium", 0.3, 0.6), ("high", 0.6, 1.01))
SENTIMENT_DAYS = 90
EXAMPLE_REVIEWS = 3
REVIEW_DAYS = 30
MAX_REVIEW_CHARS = 280


def churn_cohorts() -> dict[str, int]:
    """How many profiled people fall in each churn-risk band (one grouped read of the profiles)."""
    counts = UserBehaviorProfile.objects.aggregate(
        unscored=Count("id", filter=Q(churn_risk_score__isnull=True)),
        **{
            name: Count("id", filter=Q(churn_risk_score__gte=low, churn_risk_score__lt=high))
            for name, low, high in CHURN_BANDS
        },
    )
    return {name: int(counts[name] or 0) for name, _, _ in CHURN_BANDS} | {"not scored": int(counts["unscored"] or 0)}


def example_reviews() -> dict[str, list[dict[str, Any]]]:
    """The most positive and most negative recent reviews, by their stored sentiment score."""
    since = business_today() - timedelta(days=REVIEW_DAYS)
    recent = UserEvent.objects.filter(
        event_name="review_submitted", timestamp__date__gte=since, sentiment_score__isnull=False
    ).only("timestamp", "sentiment_score", "properties")

    def shown(rows: Any) -> list[dict[str, Any]]:
        out = []
        for row in rows[:EXAMPLE_REVIEWS]:
            text = scrub_text(str(properties_decrypt(row.properties).get("text") or ""))[:MAX_REVIEW_CHARS]
            rating = (row.properties or {}).get("rating")
            out.append({"day": row.timestamp.date(), "score": row.sentiment_score, "rating": rating, "text": text})
        return out

    return {
        "positive": shown(recent.order_by("-sentiment_score", "-timestamp")),
        "negative": shown(recent.order_by("sentiment_score", "-timestamp")),
    }


@dashboard_page(*ANALYSTS)
def people_page(request: HttpRequest, *, principal: Principal) -> HttpResponse:
    today = business_today()
    personas = persona_list()
    cohorts = churn_cohorts()
    since = today - timedelta(days=SENTIMENT_DAYS - 1)
    sentiment = metric_history(
        metric_name="average_review_sentiment", period_type="week", date_from=since, date_to=today
    )
    rating = metric_history(metric_name="average_rating", period_type="week", date_from=since, date_to=today)
    charts = [
        bar_chart(
            "personas",
            "Personas by size",
            [p["name"] for p in personas],
            {"people": [float(p["size"]) for p in personas]},
            y_title="people",
            note="" if personas else "No personas yet: the segmentation runs once enough people have behaviour.",
        ),
        bar_chart(
            "churn-cohorts",
            "Churn risk: profiled people by probability of leaving in the next 30 days",
            [f"{name} ({low:.0%}–{min(high, 1):.0%})" for name, low, high in CHURN_BANDS] + ["not scored"],
            {"people": [float(v) for v in cohorts.values()]},
            y_title="people",
        ),
        line_chart(
            "sentiment",
            "Review sentiment (−1…1) and average rating (1…5) per week",
            {"sentiment": points(sentiment.points), "rating": points(rating.points)},
            note="Hollow markers: the current week so far.",
            in_progress_from=week_start(today),
        ),
    ]
    context = {
        "page": "people",
        "principal": principal,
        "personas": personas,
        "cohorts": cohorts,
        "charts": charts,
        "reviews": example_reviews(),
    }
    return render(request, "dashboard/people.html", context)
