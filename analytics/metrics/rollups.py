"""Daily rollups: rebuilt for whole business days from the stored tracked events.

Each day is rebuilt in one transaction (delete the day's rows, insert the day's aggregates), so a
rebuild is idempotent and a reader never sees half a day. The aggregation runs in the database:
one grouped query per rollup over the day's UTC range (index `ue_time`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, FloatField, Min, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from analytics.metrics.analyses.funnel_paths import DEFAULT_STEPS, DEFAULT_WINDOW_DAYS, FunnelSpec, funnel_paths
from analytics.metrics.periods import business_zone, day_start
from analytics.metrics.selectors import NON_USER_EVENTS
from analytics.models import (
    DailyEventRollup,
    DailyFunnelReach,
    DailyUserActivity,
    DailyUserEvent,
    UserEvent,
    UserFirstActivity,
)

logger = logging.getLogger(__name__)

SEAT_EVENTS = ("event_requested", "event_checked_in", "event_checked_out")
# A step on day d can complete a journey whose view was up to 14 days (+1 for a DST hour) earlier.
FUNNEL_LOOKBACK_DAYS = DEFAULT_WINDOW_DAYS + 1
_BATCH = 1000
_IN_CHUNK = 500


def rollup_day_rebuild(*, day: date) -> set[str]:
    """Rebuild the three daily rollups of business day `day`; returns the users it had or has."""
    zone = business_zone()
    events = UserEvent.objects.filter(
        timestamp__gte=day_start(day, zone), timestamp__lt=day_start(day + timedelta(days=1), zone)
    )
    identified = events.filter(user_id__isnull=False)
    with transaction.atomic():
        users = set(DailyUserActivity.objects.filter(day=day).values_list("user_id", flat=True))
        DailyUserActivity.objects.filter(day=day).delete()
        DailyUserEvent.objects.filter(day=day).delete()
        DailyEventRollup.objects.filter(day=day).delete()

        activity = [
            DailyUserActivity(
                day=day,
                user_id=row["user_id"],
                platform=row["device_type"],
                city=row["city"],
                events=row["n"],
            )
            for row in identified.exclude(event_name__in=NON_USER_EVENTS)
            .values("user_id", "device_type", "city")
            .annotate(n=Count("id"))
            .order_by()
        ]
        DailyUserActivity.objects.bulk_create(activity, batch_size=_BATCH)
        users.update(row.user_id for row in activity)

        DailyUserEvent.objects.bulk_create(
            [
                DailyUserEvent(day=day, user_id=row["user_id"], event_name=row["event_name"], events=row["n"])
                for row in identified.values("user_id", "event_name").annotate(n=Count("id")).order_by()
            ],
            batch_size=_BATCH,
        )

        rows = (
            events.values("event_name", "listing_id", "device_type", "city")
            .annotate(
                n=Count("id"),
                amount=Sum("revenue_impact"),
                seats=Sum(Cast(KT("properties__seats"), FloatField()), filter=Q(event_name__in=SEAT_EVENTS)),
                rating=Sum(Cast(KT("properties__rating"), FloatField()), filter=Q(event_name="review_submitted")),
                server_errors=Count("id", filter=Q(event_name="api_request", status_code__gte=500)),
            )
            .order_by()
        )
        merged: dict[tuple[str, str, str, str], DailyEventRollup] = {}
        for row in rows:
            key = (row["event_name"], row["listing_id"] or "", row["device_type"], row["city"])
            item = merged.get(key)
            if item is None:  # listing_id NULL and "" fold into one row
                item = merged[key] = DailyEventRollup(
                    day=day, event_name=key[0], listing_id=key[1], platform=key[2], city=key[3], events=0
                )
            item.events += row["n"]
            item.amount += Decimal(row["amount"] or 0)
            item.seats += round(row["seats"] or 0)
            item.rating_sum += round(row["rating"] or 0)
            item.server_errors += row["server_errors"]
        DailyEventRollup.objects.bulk_create(list(merged.values()), batch_size=_BATCH)
    return users


def funnel_reach_day_rebuild(*, day: date) -> int:
    """Rebuild `DailyFunnelReach` of business day `day` (the funnel from that day's views); returns rows."""
    zone = business_zone()
    spec = FunnelSpec(
        steps=DEFAULT_STEPS,
        start=day_start(day, zone),
        end=day_start(day + timedelta(days=1), zone),
        window_days=DEFAULT_WINDOW_DAYS,
        by_listing=True,
        skip_payment_for_free=True,
        breakdown=None,
    )
    rows = [DailyFunnelReach(day=day, user_id=p.user_id, reached=p.reached) for p in funnel_paths(spec).paths]
    with transaction.atomic():
        DailyFunnelReach.objects.filter(day=day).delete()
        DailyFunnelReach.objects.bulk_create(rows, batch_size=_BATCH)
    return len(rows)


def funnel_days(days: Iterable[date]) -> set[date]:
    """The view days whose funnel reach can change when the tracked events of `days` change."""
    return {day - timedelta(days=n) for day in days for n in range(FUNNEL_LOOKBACK_DAYS + 1)}


def rollups_rebuild(*, days: Iterable[date]) -> set[date]:
    """Rebuild the rollups of `days` (and the funnel reach of the view days they can complete);
    returns the business days whose retention cohort changed."""
    users: set[str] = set()
    rebuilt = sorted(set(days))
    for day in rebuilt:
        users |= rollup_day_rebuild(day=day)
    for day in sorted(funnel_days(rebuilt)):
        funnel_reach_day_rebuild(day=day)
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
    """Rebuild every user's first active day from the activity rollup (the backfill's way)."""
    with transaction.atomic():
        UserFirstActivity.objects.all().delete()
        rows = (
            DailyUserActivity.objects.values("user_id")
            .annotate(first=Min("day"))
            .values_list("user_id", "first")
            .order_by()
        )
        UserFirstActivity.objects.bulk_create(
            [UserFirstActivity(user_id=user, first_day=first) for user, first in rows.iterator()],
            batch_size=_BATCH,
        )
