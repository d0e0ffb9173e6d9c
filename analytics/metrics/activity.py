"""Activity: active users, stickiness, page views, sessions."""

from __future__ import annotations

from django.db.models import Avg, Count

from analytics.metrics.registry import (
    Direction,
    Kind,
    MetricContext,
    MetricDefinition,
    Unit,
    Values,
    quotient,
    ratio,
    register,
)
from analytics.metrics.selectors import OVERALL, active_users, daily_active_counts, event_counts
from analytics.models import Session

ACTIVE_USER = (
    "distinct identified users (user_id not null) with at least one user-initiated tracked event "
    "(any event except api_request and app_error) in the period"
)


def _active_users(ctx: MetricContext, breakdown: str | None) -> Values:
    return {key: float(n) for key, n in active_users(ctx, breakdown).items()}


for _name, _period, _question in (
    ("daily_active_users", "day", "How many identified people use Loopin on a business day?"),
    ("weekly_active_users", "week", "How many identified people use Loopin in a week?"),
    ("monthly_active_users", "month", "How many identified people use Loopin in a month?"),
):
    register(
        MetricDefinition(
            name=_name,
            kind=Kind.KPI,
            category="activity",
            unit=Unit.COUNT,
            question=_question,
            definition=f"Count of {ACTIVE_USER} (the {_period}). Users with only anonymous activity are not counted. "
            "A period without activity is 0.",
            direction=Direction.UP,
            compute=_active_users,
            periods=(_period,),
            breakdowns=("platform", "city"),
        )
    )


def _stickiness(ctx: MetricContext, breakdown: str | None) -> Values:
    days = [day for day in ctx.period.days() if day <= ctx.today]
    unique = active_users(ctx)[OVERALL]
    if not days or not unique:
        return {OVERALL: None}
    per_day = daily_active_counts(ctx)
    average_dau = sum(per_day.get(day, 0) for day in days) / len(days)
    return {OVERALL: ratio(average_dau, unique)}


register(
    MetricDefinition(
        name="stickiness",
        kind=Kind.KPI,
        category="activity",
        unit=Unit.PERCENT,
        question="How often do the period's users come back — what share of them is active on a typical day?",
        definition="Average daily active users over the period's days up to and including the current business "
        "day (days without activity count 0), divided by the period's unique active users, × 100 "
        "(DAU/WAU for a week, DAU/MAU for a month). No data when the period had no active user.",
        direction=Direction.UP,
        compute=_stickiness,
        periods=("week", "month"),
        warning=15,
        critical=10,
    )
)


def _page_views(ctx: MetricContext, breakdown: str | None) -> Values:
    counts = event_counts(ctx, ("page_view", "event_viewed"), breakdown)
    return {key: float(sum(c.values())) for key, c in counts.items()}


register(
    MetricDefinition(
        name="page_views",
        kind=Kind.KPI,
        category="activity",
        unit=Unit.COUNT,
        question="How much browsing happens on Loopin?",
        definition="Count of page_view and event_viewed tracked events in the period, identified or anonymous. "
        "A period without them is 0.",
        direction=Direction.UP,
        compute=_page_views,
        breakdowns=("platform", "city"),
    )
)


def _sessions(ctx: MetricContext):  # type: ignore[no-untyped-def]
    return Session.objects.filter(started_at__gte=ctx.start, started_at__lt=ctx.end)


# A session length over fewer sessions than this says more about those few visits than about the platform
# (two test events of a README make a 0-minute "day").
MIN_SESSIONS = 20


def _session_count(ctx: MetricContext, breakdown: str | None) -> Values:
    return {OVERALL: float(_sessions(ctx).count())}


def _avg_session_minutes(ctx: MetricContext, breakdown: str | None) -> Values:
    average = _sessions(ctx).aggregate(avg=Avg("duration_seconds"))["avg"]
    return {OVERALL: None if average is None else average / 60.0}


def _median_session_minutes(ctx: MetricContext, breakdown: str | None) -> Values:
    sessions = _sessions(ctx)
    count = sessions.count()
    if not count:
        return {OVERALL: None}
    ordered = sessions.order_by("duration_seconds").values_list("duration_seconds", flat=True)
    middle = list(ordered[(count - 1) // 2 : count // 2 + 1])
    return {OVERALL: sum(middle) / len(middle) / 60.0}


def _sessions_per_user(ctx: MetricContext, breakdown: str | None) -> Values:
    totals = (
        _sessions(ctx)
        .filter(user_id__isnull=False)
        .aggregate(sessions=Count("id"), users=Count("user_id", distinct=True))
    )
    return {OVERALL: quotient(totals["sessions"], totals["users"])}


SESSION = (
    "a session (client session_id, else 30 minutes of inactivity or 24 hours close it) belongs to the "
    "business day on which its first tracked event happened; its length is last event − first event"
)

register(
    MetricDefinition(
        name="avg_session_length_minutes",
        kind=Kind.KPI,
        category="activity",
        unit=Unit.MINUTES,
        question="How long does a visit to Loopin last on average?",
        definition=f"Mean session length in minutes over the sessions that started in the period; {SESSION}. "
        "Sessions of identified and anonymous visitors count. No data without sessions.",
        direction=Direction.UP,
        compute=_avg_session_minutes,
        volume=_session_count,
        min_volume=MIN_SESSIONS,
        volume_label="sessions",
        warning=2,
        critical=1,
    )
)
register(
    MetricDefinition(
        name="median_session_length_minutes",
        kind=Kind.KPI,
        category="activity",
        unit=Unit.MINUTES,
        question="How long does a typical visit last, unaffected by a few very long ones?",
        definition=f"Median session length in minutes over the sessions that started in the period (for an even "
        f"count, the mean of the two middle lengths); {SESSION}. No data without sessions.",
        direction=Direction.UP,
        compute=_median_session_minutes,
        volume=_session_count,
        min_volume=MIN_SESSIONS,
        volume_label="sessions",
        warning=1,
        critical=0.5,
    )
)
register(
    MetricDefinition(
        name="sessions_per_user",
        kind=Kind.KPI,
        category="activity",
        unit=Unit.COUNT,
        question="How many visits does an identified user make in the period?",
        definition=f"Sessions with a user_id that started in the period ÷ distinct user_ids of those sessions; "
        f"{SESSION}. No data without identified sessions.",
        direction=Direction.UP,
        compute=_sessions_per_user,
    )
)
