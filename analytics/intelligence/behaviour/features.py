"""What each user did before an instant, read set-based: one snapshot per user for the behaviour models.

A snapshot is built from five grouped reads over the lookback window `[as_of − lookback, as_of)` — never
one query per user:

1. tracked events per user × event name (all, last 7 / 30 days, the 30 days before those);
2. browsing sessions (`Session` rows of an identified user that showed at least one screen — the
   platform's backend events, such as a host's decision, get server-side sessions without a screen and
   are not visits): start, length, events;
3. listing interactions (views and requests) joined with the listing: category, city, price;
4. seats the user held (accepted requests) on listings that have started, and which were checked in;
5. reviews: rating and sentiment.

Times of day and weekdays are in the business time zone. Users with no tracked event in the window get
no snapshot (the caller answers "no data").
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Q

from analytics.metrics.periods import business_zone
from analytics.models import Session, UserEvent

DEFAULT_LOOKBACK_DAYS = 90
NOT_USER_INITIATED = ("api_request", "app_error")
_IN_CHUNK = 500


@dataclass(frozen=True)
class SessionRow:
    started_at: datetime
    duration_seconds: float
    events: int


@dataclass
class BehaviourSnapshot:
    """One user's behaviour before `as_of` (aggregates only; no raw text, no PII)."""

    user_id: str
    as_of: datetime
    lookback_days: int
    events: Counter[str] = field(default_factory=Counter)  # event name → count in the window
    events_7d: Counter[str] = field(default_factory=Counter)
    events_30d: Counter[str] = field(default_factory=Counter)
    events_prev_30d: Counter[str] = field(default_factory=Counter)  # days 30…59 before as_of
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    sessions: list[SessionRow] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)  # viewed listings' categories
    cities: Counter[str] = field(default_factory=Counter)
    viewed_prices: list[float] = field(default_factory=list)  # one per view of a listing with a price
    requested_prices: list[float] = field(default_factory=list)
    seats_requested: list[int] = field(default_factory=list)
    seats_held: int = 0  # accepted requests on listings that started before as_of
    seats_checked_in: int = 0  # … of which the user checked in
    ratings: list[int] = field(default_factory=list)
    review_sentiments: list[float] = field(default_factory=list)
    platforms: Counter[str] = field(default_factory=Counter)  # device_type of user-initiated events

    # --- derived -------------------------------------------------------------------------------------
    def user_events(self, counter: Counter[str] | None = None) -> int:
        counter = self.events if counter is None else counter
        return sum(n for name, n in counter.items() if name not in NOT_USER_INITIATED)

    def days_before(self, instant: datetime) -> float:
        return (self.as_of - instant).total_seconds() / 86400.0

    def sessions_within(self, days: float, *, skip: float = 0.0) -> int:
        return sum(1 for s in self.sessions if skip <= self.days_before(s.started_at) < skip + days)

    def decayed_sessions(self, half_life_days: float) -> float:
        rate = math.log(2) / half_life_days
        return sum(math.exp(-rate * self.days_before(s.started_at)) for s in self.sessions)

    def days_since_last_session(self) -> float:
        if not self.sessions:
            return float(self.lookback_days)
        return min(self.days_before(max(s.started_at for s in self.sessions)), float(self.lookback_days))

    def tenure_days(self) -> float:
        """Days since the first tracked event in the window (at most the window)."""
        return 0.0 if self.first_event_at is None else self.days_before(self.first_event_at)

    def local_starts(self, zone: ZoneInfo | None = None) -> list[datetime]:
        zone = zone or business_zone()
        return [s.started_at.astimezone(zone) for s in self.sessions]


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])


def _event_counts(snapshots: dict[str, BehaviourSnapshot], users: list[str], start: datetime, as_of: datetime) -> None:
    d7, d30, d60 = (as_of - timedelta(days=n) for n in (7, 30, 60))
    rows = (
        UserEvent.objects.filter(user_id__in=users, timestamp__gte=start, timestamp__lt=as_of)
        .values("user_id", "event_name")
        .annotate(
            n=Count("id"),
            n7=Count("id", filter=Q(timestamp__gte=d7)),
            n30=Count("id", filter=Q(timestamp__gte=d30)),
            prev30=Count("id", filter=Q(timestamp__gte=d60, timestamp__lt=d30)),
        )
        .order_by()
    )
    for row in rows:
        snap = snapshots[row["user_id"]]
        name = row["event_name"]
        snap.events[name] += row["n"]
        for counter, key in ((snap.events_7d, "n7"), (snap.events_30d, "n30"), (snap.events_prev_30d, "prev30")):
            if row[key]:
                counter[name] += row[key]


def _first_last_and_platforms(
    snapshots: dict[str, BehaviourSnapshot], users: list[str], start: datetime, as_of: datetime
) -> None:
    from django.db.models import Max, Min

    base = UserEvent.objects.filter(user_id__in=users, timestamp__gte=start, timestamp__lt=as_of).exclude(
        event_name__in=NOT_USER_INITIATED
    )
    for row in base.values("user_id").annotate(first=Min("timestamp"), last=Max("timestamp")).order_by():
        snap = snapshots[row["user_id"]]
        snap.first_event_at, snap.last_event_at = row["first"], row["last"]
    for row in base.values("user_id", "device_type").annotate(n=Count("id")).order_by():
        snapshots[row["user_id"]].platforms[row["device_type"] or "unknown"] += row["n"]


def _sessions(snapshots: dict[str, BehaviourSnapshot], users: list[str], start: datetime, as_of: datetime) -> None:
    rows = (
        Session.objects.filter(user_id__in=users, started_at__gte=start, started_at__lt=as_of)
        .exclude(entry_screen="")
        .values_list("user_id", "started_at", "duration_seconds", "event_count")
        .order_by("started_at")
    )
    for user_id, started_at, duration, events in rows:
        snapshots[str(user_id)].sessions.append(SessionRow(started_at, float(duration or 0.0), int(events or 0)))


_LISTING_SQL = """
SELECT e.user_id, e.event_name, l.category, l.city, l.price, COUNT(*), AVG(CAST(COALESCE({seats}, '1') AS REAL))
FROM analytics_user_event e JOIN analytics_event_listing l ON l.listing_id = e.listing_id
WHERE e.user_id IN ({users}) AND e.event_name IN ('event_viewed', 'event_requested')
  AND e.timestamp >= %s AND e.timestamp < %s
GROUP BY e.user_id, e.event_name, l.category, l.city, l.price
"""


def _listing_interactions(
    snapshots: dict[str, BehaviourSnapshot], users: list[str], start: datetime, as_of: datetime
) -> None:
    seats = "e.properties->>'seats'" if connection.vendor == "postgresql" else "json_extract(e.properties, '$.seats')"
    statement = _LISTING_SQL.format(users=", ".join(["%s"] * len(users)), seats=seats)
    params = [*users, connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(as_of)]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for user_id, name, category, city, price, count, seats_mean in cursor.fetchall():
            snap = snapshots[user_id]
            value = None if price is None else float(price)
            if name == "event_viewed":
                snap.categories[category or "unknown"] += int(count)
                snap.cities[city or "unknown"] += int(count)
                if value is not None:
                    snap.viewed_prices.extend([value] * int(count))
            else:
                if value is not None:
                    snap.requested_prices.extend([value] * int(count))
                snap.seats_requested.extend([round(float(seats_mean or 1))] * int(count))


def _attendance(snapshots: dict[str, BehaviourSnapshot], users: list[str], start: datetime, as_of: datetime) -> None:
    """Seats held on listings that started before as_of, and whether the user checked in to them."""
    from analytics.models import EventListing

    rows = (
        UserEvent.objects.filter(
            user_id__in=users,
            event_name__in=("event_request_accepted", "event_checked_in"),
            timestamp__gte=start,
            timestamp__lt=as_of,
            listing_id__isnull=False,
        )
        .values_list("user_id", "listing_id", "event_name")
        .distinct()
    )
    held: dict[str, set[str]] = defaultdict(set)
    checked: dict[str, set[str]] = defaultdict(set)
    for user_id, listing_id, name in rows:
        (held if name == "event_request_accepted" else checked)[str(user_id)].add(str(listing_id))
    listings = {lid for ids in held.values() for lid in ids}
    started: set[str] = set()
    ordered = sorted(listings)
    for chunk in _chunks(ordered):
        started |= set(
            EventListing.objects.filter(listing_id__in=chunk, starts_at__lt=as_of, status="active").values_list(
                "listing_id", flat=True
            )
        )
    for user_id, ids in held.items():
        due = ids & started
        snapshots[user_id].seats_held = len(due)
        snapshots[user_id].seats_checked_in = len(due & checked.get(user_id, set()))


def _reviews(snapshots: dict[str, BehaviourSnapshot], users: list[str], start: datetime, as_of: datetime) -> None:
    from django.db.models import FloatField
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    rows = (
        UserEvent.objects.filter(
            user_id__in=users, event_name="review_submitted", timestamp__gte=start, timestamp__lt=as_of
        )
        .annotate(rating=Cast(KT("properties__rating"), FloatField()))
        .values_list("user_id", "rating", "sentiment_score")
    )
    for user_id, rating, sentiment in rows:
        snap = snapshots[str(user_id)]
        if rating is not None:
            snap.ratings.append(round(rating))
        if sentiment is not None:
            snap.review_sentiments.append(float(sentiment))


def behaviour_snapshots(
    *, user_ids: Sequence[str], as_of: datetime, lookback_days: int = DEFAULT_LOOKBACK_DAYS
) -> dict[str, BehaviourSnapshot]:
    """{user_id: snapshot} for the users with at least one tracked event in the window."""
    start = as_of - timedelta(days=lookback_days)
    ordered = sorted(set(user_ids))
    snapshots: dict[str, BehaviourSnapshot] = {}
    for users in _chunks(ordered):
        present = {
            str(user)
            for user in UserEvent.objects.filter(user_id__in=users, timestamp__gte=start, timestamp__lt=as_of)
            .values_list("user_id", flat=True)
            .distinct()
        }
        chunk = sorted(present)
        if not chunk:
            continue
        found = {user: BehaviourSnapshot(user_id=user, as_of=as_of, lookback_days=lookback_days) for user in chunk}
        _event_counts(found, chunk, start, as_of)
        _first_last_and_platforms(found, chunk, start, as_of)
        _sessions(found, chunk, start, as_of)
        _listing_interactions(found, chunk, start, as_of)
        _attendance(found, chunk, start, as_of)
        _reviews(found, chunk, start, as_of)
        snapshots.update(found)
    return snapshots
