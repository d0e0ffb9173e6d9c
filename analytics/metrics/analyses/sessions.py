"""Session statistics over a range: sessions that started in it (the metrics' session rules:
client session_id, else 30 minutes of inactivity or 24 hours; length = last - first event)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from analytics.metrics.analyses import DateRange, median, percent
from analytics.models import Session


@dataclass(frozen=True)
class SessionStatsQuery:
    range: DateRange


@dataclass(frozen=True)
class SessionStatsResult:
    sessions: int
    identified_sessions: int
    identified_users: int
    avg_length_minutes: float | None
    median_length_minutes: float | None
    avg_events_per_session: float | None
    sessions_per_user: float | None
    bounce_rate: float | None  # percent of sessions with a single tracked event


def session_stats_run(*, query: SessionStatsQuery) -> SessionStatsResult:
    """How long and how deep are visits, and how often do identified users come?"""
    sessions = Session.objects.filter(started_at__gte=query.range.start, started_at__lt=query.range.end)
    totals = sessions.aggregate(
        n=Count("id"),
        identified=Count("id", filter=Q(user_id__isnull=False)),
        users=Count("user_id", distinct=True),
        avg=Avg("duration_seconds"),
        events=Avg("event_count"),
        single=Count("id", filter=Q(event_count__lte=1)),
    )
    n = totals["n"]
    middle: list[float] = []
    if n:
        ordered = sessions.order_by("duration_seconds").values_list("duration_seconds", flat=True)
        middle = list(ordered[(n - 1) // 2 : n // 2 + 1])
    med = median(middle)
    return SessionStatsResult(
        sessions=n,
        identified_sessions=totals["identified"],
        identified_users=totals["users"],
        avg_length_minutes=None if totals["avg"] is None else round(totals["avg"] / 60.0, 6),
        median_length_minutes=None if med is None else round(med / 60.0, 6),
        avg_events_per_session=None if totals["events"] is None else round(float(totals["events"]), 6),
        sessions_per_user=None if not totals["users"] else round(totals["identified"] / totals["users"], 6),
        bounce_rate=percent(totals["single"], n),
    )
