"""Daily rollups: rebuilt for whole business days from the stored tracked events.

Each day is rebuilt in one transaction (delete the day's rows, insert the day's aggregates), so a
rebuild is idempotent and a reader never sees half a day. The aggregation runs in the database:
one INSERT … SELECT … GROUP BY per rollup over the day's UTC range (index `ue_time`).
`rollups_current_days` says which days a reader may take from the rollups instead of the events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Min
from django.db.models.functions import TruncDate

from analytics.metrics.analyses import as_date
from analytics.metrics.analyses.funnel_paths import (
    DEFAULT_STEPS,
    DEFAULT_WINDOW_DAYS,
    EntrantPath,
    FunnelSpec,
    funnel_paths,
)
from analytics.metrics.analysis_session import analysis_session
from analytics.metrics.periods import business_day, business_zone, day_start
from analytics.metrics.selectors import NON_USER_EVENTS
from analytics.models import (
    DailyEventRollup,
    DailyFunnelReach,
    DailyUserActivity,
    DailyUserEvent,
    DirtyScope,
    MetricDirtyDay,
    UserEvent,
    UserFirstActivity,
)

# A module, not its names: retention imports the metrics package, which imports this module.
from analytics.privacy import retention as data_retention

logger = logging.getLogger(__name__)

# Every table this module writes (a backfill refreshes their planner statistics).
ROLLUP_TABLES = tuple(
    model._meta.db_table
    for model in (DailyUserActivity, DailyUserEvent, DailyEventRollup, DailyFunnelReach, UserFirstActivity)
)
SEAT_EVENTS = ("event_requested", "event_checked_in", "event_checked_out")
# A step on day d can complete a journey whose view was up to 14 days (+1 for a DST hour) earlier.
FUNNEL_LOOKBACK_DAYS = DEFAULT_WINDOW_DAYS + 1
_BATCH = 1000
_IN_CHUNK = 500
_USER_BATCH = 10_000  # users per partial funnel-reach statement: 2 parameters each, SQLite allows 32,766


_ACTIVITY_SQL = """
INSERT INTO analytics_daily_user_activity (day, user_id, platform, city, events)
SELECT %s, user_id, device_type, city, COUNT(*) FROM analytics_user_event
WHERE timestamp >= %s AND timestamp < %s AND user_id IS NOT NULL AND event_name NOT IN ({non_user})
GROUP BY user_id, device_type, city
"""
_USER_EVENT_SQL = """
INSERT INTO analytics_daily_user_event (day, user_id, event_name, events)
SELECT %s, user_id, event_name, COUNT(*) FROM analytics_user_event
WHERE timestamp >= %s AND timestamp < %s AND user_id IS NOT NULL
GROUP BY user_id, event_name
"""
_EVENT_ROLLUP_SQL = """
INSERT INTO analytics_daily_event_rollup
    (day, event_name, listing_id, platform, city, events, amount, seats, rating_sum, server_errors)
SELECT %s, event_name, COALESCE(listing_id, ''), device_type, city, COUNT(*),
    COALESCE(SUM(revenue_impact), 0),
    CAST(ROUND(COALESCE(SUM(CASE WHEN event_name IN ({seat_events}) THEN CAST({seats} AS REAL) END), 0)) AS BIGINT),
    CAST(ROUND(COALESCE(SUM(CASE WHEN event_name = 'review_submitted' THEN CAST({rating} AS REAL) END), 0)) AS BIGINT),
    SUM(CASE WHEN event_name = 'api_request' AND status_code >= 500 THEN 1 ELSE 0 END)
FROM analytics_user_event
WHERE timestamp >= %s AND timestamp < %s
GROUP BY event_name, COALESCE(listing_id, ''), device_type, city
"""


def _json_number(key: str) -> str:
    """SQL for a top-level number of `properties` (the key is a constant of this module)."""
    if connection.vendor == "postgresql":
        return f"(properties->>'{key}')"
    return f"json_extract(properties, '$.{key}')"


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)  # constants of this module, never input


def rollup_day_rebuild(*, day: date) -> set[str]:
    """Rebuild the three daily rollups of business day `day`; returns the users it had or has.

    Set-based: each rollup is one INSERT … SELECT … GROUP BY over the day's UTC range (index `ue_time`),
    so no row leaves the database."""
    zone = business_zone()
    start = connection.ops.adapt_datetimefield_value(day_start(day, zone))
    end = connection.ops.adapt_datetimefield_value(day_start(day + timedelta(days=1), zone))
    stamp = connection.ops.adapt_datefield_value(day)
    with transaction.atomic(), analysis_session(), connection.cursor() as cursor:
        users = set(DailyUserActivity.objects.filter(day=day).values_list("user_id", flat=True))
        DailyUserActivity.objects.filter(day=day).delete()
        DailyUserEvent.objects.filter(day=day).delete()
        DailyEventRollup.objects.filter(day=day).delete()
        cursor.execute(_ACTIVITY_SQL.format(non_user=_quoted(NON_USER_EVENTS)), [stamp, start, end])
        cursor.execute(_USER_EVENT_SQL, [stamp, start, end])
        cursor.execute(
            _EVENT_ROLLUP_SQL.format(
                seat_events=_quoted(SEAT_EVENTS), seats=_json_number("seats"), rating=_json_number("rating")
            ),
            [stamp, start, end],
        )
        users.update(DailyUserActivity.objects.filter(day=day).values_list("user_id", flat=True))
    return users


def rollups_current_days(first: date, last: date) -> set[date]:
    """The business days in [first, last] whose daily rollups hold every stored tracked event.

    A day is behind when it has events still waiting for processing (read through the small partial
    index `ue_unprocessed`) or is marked dirty for a rebuild. Processing commits an event's dirty mark
    together with its `processed_at`, and the mark goes only after a rebuild that includes the event has
    committed; reading the waiting events *first* therefore leaves no gap — an event processed between
    the two reads was still waiting for the first. Readers that serve these days from the rollups and
    the other days from the events give the events' answer."""
    zone = business_zone()
    waiting = (
        UserEvent.objects.filter(
            processed_at__isnull=True,
            timestamp__gte=day_start(first, zone),
            timestamp__lt=day_start(last + timedelta(days=1), zone),
        )
        .annotate(day=TruncDate("timestamp", tzinfo=zone))
        .values_list("day", flat=True)
        .distinct()
    )
    behind = {as_date(day) for day in waiting}
    behind.update(
        MetricDirtyDay.objects.filter(scope=DirtyScope.ROLLUPS, day__gte=first, day__lte=last).values_list(
            "day", flat=True
        )
    )
    return {first + timedelta(days=n) for n in range((last - first).days + 1)} - behind


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def funnel_reach_rebuild(*, days: Iterable[date], user_ids: Iterable[str] | None = None) -> int:
    """Rebuild `DailyFunnelReach` of business `days` — for every user, or only `user_ids`; returns rows
    written.

    One funnel-engine statement per run of consecutive days (and batch of users); each user's best path
    per view day (most steps, then the earliest view) is picked here."""
    if user_ids is None:
        return sum(_funnel_reach_rebuild(first, last, None) for first, last in day_runs(days))
    users = sorted(set(user_ids))
    return sum(
        _funnel_reach_rebuild(first, last, tuple(users[start : start + _USER_BATCH]))
        for first, last in day_runs(days)
        for start in range(0, len(users), _USER_BATCH)
    )


def _funnel_reach_rebuild(first: date, last: date, users: tuple[str, ...] | None) -> int:
    zone = business_zone()
    spec = FunnelSpec(
        steps=DEFAULT_STEPS,
        start=day_start(first, zone),
        end=day_start(last + timedelta(days=1), zone),
        window_days=DEFAULT_WINDOW_DAYS,
        by_listing=True,
        skip_payment_for_free=True,
        breakdown=None,
        all_entries=True,
        user_ids=users,
    )
    best: dict[tuple[date, str], EntrantPath] = {}
    for path in funnel_paths(spec).paths:
        viewed = path.times[0]
        assert viewed is not None  # an entry always has its first step
        key = (business_day(viewed, zone), path.user_id)
        current = best.get(key)
        if current is None or (-path.reached, viewed, path.entry_id) < (
            -current.reached,
            current.times[0],
            current.entry_id,
        ):
            best[key] = path
    rows = []
    for (day, user_id), path in best.items():
        times = [*path.times, None, None, None][:4]
        rows.append(
            DailyFunnelReach(
                day=day,
                user_id=user_id,
                reached=path.reached,
                viewed_at=times[0],
                requested_at=times[1],
                paid_at=times[2],
                checked_in_at=times[3],
            )
        )
    stale = DailyFunnelReach.objects.filter(day__gte=first, day__lte=last)
    if users is not None:
        stale = stale.filter(user_id__in=users)
    with transaction.atomic():
        stale.delete()
        DailyFunnelReach.objects.bulk_create(rows, batch_size=_BATCH)
    return len(rows)


def funnel_movers(*, days: Iterable[date]) -> set[str]:
    """Users whose funnel paths the tracked events of `days` can change beyond those days' own views: those
    with a later funnel step on the days, and the viewers (in the lookback) of listings created or updated
    on the days (a price change makes a listing free or paid)."""
    zone = business_zone()
    movers: set[str | None] = set()
    for first, last in day_runs(days):
        start, end = day_start(first, zone), day_start(last + timedelta(days=1), zone)
        events = UserEvent.objects.filter(timestamp__gte=start, timestamp__lt=end, user_id__isnull=False)
        movers.update(events.filter(event_name__in=DEFAULT_STEPS[1:]).values_list("user_id", flat=True).distinct())
        changed = list(
            UserEvent.objects.filter(
                timestamp__gte=start, timestamp__lt=end, event_name__in=("event_created", "event_updated")
            )
            .exclude(listing_id=None)
            .values_list("listing_id", flat=True)
            .distinct()
        )
        for chunk in range(0, len(changed), _IN_CHUNK):
            movers.update(
                UserEvent.objects.filter(
                    event_name=DEFAULT_STEPS[0],
                    listing_id__in=changed[chunk : chunk + _IN_CHUNK],
                    user_id__isnull=False,
                    timestamp__gte=day_start(first - timedelta(days=FUNNEL_LOOKBACK_DAYS), zone),
                    timestamp__lt=end,
                )
                .values_list("user_id", flat=True)
                .distinct()
            )
    return {str(user) for user in movers if user is not None}


def funnel_days(days: Iterable[date]) -> set[date]:
    """The view days whose funnel reach can change when the tracked events of `days` change."""
    return {day - timedelta(days=n) for day in days for n in range(FUNNEL_LOOKBACK_DAYS + 1)}


def rollups_rebuild(*, days: Iterable[date]) -> set[date]:
    """Rebuild the rollups of `days` (and the funnel reach of the view days they can complete);
    returns the business days whose retention cohort changed."""
    users: set[str] = set()
    # A day the retention purge froze keeps its rollups: its events are gone.
    rebuilt = sorted(data_retention.days_not_frozen(set(days)))
    for day in rebuilt:
        users |= rollup_day_rebuild(day=day)
    # The funnel reach: the rebuilt days' own views for everyone; the 15 view days before them only for the
    # users whose paths those days' events can change (a user's path depends on that user's events alone).
    funnel_reach_rebuild(days=rebuilt)
    funnel_reach_rebuild(
        days=data_retention.days_not_frozen(funnel_days(rebuilt)) - set(rebuilt), user_ids=funnel_movers(days=rebuilt)
    )
    changed = first_activity_refresh(user_ids=users)
    if rebuilt:
        logger.info(
            "metrics.rollups_rebuilt days=%d users=%d cohort_days_changed=%d",
            len(rebuilt),
            len(users),
            len(changed),
        )
    return changed


def first_activity_refresh(*, user_ids: Iterable[str]) -> set[date]:
    """Recompute `UserFirstActivity` of `user_ids`; returns every old and new first day that moved."""
    changed: set[date] = set()
    ordered = sorted(set(user_ids))
    first_kept = data_retention.frozen_before()
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        new = dict(
            DailyUserActivity.objects.filter(user_id__in=chunk)
            .values("user_id")
            .annotate(first=Min("day"))
            .values_list("user_id", "first")
            .order_by()
        )
        old = dict(UserFirstActivity.objects.filter(user_id__in=chunk).values_list("user_id", "first_day"))
        if first_kept is not None:  # a first day in the purged past outlives its activity rows
            new.update({user: day for user, day in old.items() if day < first_kept})
        moved = {user for user in chunk if old.get(user) != new.get(user)}
        if not moved:
            continue
        changed |= {old[u] for u in moved if u in old} | {new[u] for u in moved if u in new}
        with transaction.atomic():
            UserFirstActivity.objects.filter(user_id__in=[u for u in moved if u not in new]).delete()
            UserFirstActivity.objects.bulk_create(
                [UserFirstActivity(user_id=u, first_day=new[u]) for u in sorted(moved) if u in new],
                update_conflicts=True,
                unique_fields=["user_id"],
                update_fields=["first_day"],
                batch_size=_BATCH,
            )
    return changed


def first_activity_rebuild() -> None:
    """Rebuild every user's first active day from the activity rollup (the backfill's way); a first day before
    the retention purge's frozen days is kept, since its activity rows are gone."""
    first_kept = data_retention.frozen_before()
    with transaction.atomic():
        kept = UserFirstActivity.objects.filter(first_day__lt=first_kept) if first_kept else None
        UserFirstActivity.objects.exclude(pk__in=kept.values("pk") if kept is not None else []).delete()
        rows = (
            DailyUserActivity.objects.exclude(user_id__in=kept.values("user_id") if kept is not None else [])
            .values("user_id")
            .annotate(first=Min("day"))
            .values_list("user_id", "first")
            .order_by()
        )
        UserFirstActivity.objects.bulk_create(
            [UserFirstActivity(user_id=user, first_day=first) for user, first in rows.iterator()],
            batch_size=_BATCH,
        )
