"""Seats and requests as the tracked events tell them, read set-based, with the history each one had.

A **request** is a user's `event_requested` for a listing (one per user and listing). It becomes a
**confirmed seat** when accepted (free listings) or paid for (priced ones: `payment_completed` for the
same user and listing); it is *declined*, *cancelled by the attendee* (`registration_cancelled`) or goes
with its listing when the host cancels. Its outcome is a check-in (`event_checked_in`) once the listing
has started. Everything is read as of an instant T: events after T are not read, and a seat's outcome is
known only if its listing started before T.

Each confirmed seat carries the history the platform had when it was confirmed (never later): the
person's earlier seats and check-ins, the host's, the person's interest in the listing's category (their
listing views) and whether their visits were slowing down.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models.fields.json import KT

from analytics.intelligence.attendance.activity import DAY, Activity, Sessions, Views, activity_read
from analytics.models import EventListing, UserEvent

LOOKBACK_DAYS = 180
_CHUNK = 1000


@dataclass
class Listing:
    listing_id: str
    host_id: str
    category: str
    city: str
    price: float
    capacity: int | None
    created_at: datetime | None
    starts_at: datetime
    cancelled_at: datetime | None

    @property
    def paid(self) -> bool:
        return self.price > 0

    def held_before(self, instant: datetime) -> bool:
        """Started before `instant` and not cancelled by then."""
        return self.starts_at < instant and (self.cancelled_at is None or self.cancelled_at >= self.starts_at)


@dataclass
class Request:
    user_id: str
    listing: Listing
    requested_at: datetime
    seats: int
    confirmed_at: datetime | None = None
    declined_at: datetime | None = None
    attendee_cancelled_at: datetime | None = None
    checked_in_at: datetime | None = None
    # the history when confirmed (filled by `with_history`)
    history: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.user_id, self.listing.listing_id

    def confirmed_by(self, instant: datetime) -> bool:
        return self.confirmed_at is not None and self.confirmed_at < instant

    def outcome_known(self, instant: datetime) -> bool:
        """Confirmed, and its listing took place before `instant` (the check-in is observed or not)."""
        return self.confirmed_by(instant) and self.listing.held_before(instant)

    @property
    def declined(self) -> bool:
        return self.declined_at is not None

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None

    @property
    def attended(self) -> bool:
        return self.checked_in

    def known_at(self, instant: datetime) -> Request:
        """This request as the platform knew it at `instant` (made before it): what happened later undone."""

        def then(at: datetime | None) -> datetime | None:
            return at if at is not None and at < instant else None

        return Request(
            user_id=self.user_id,
            listing=self.listing,
            requested_at=self.requested_at,
            seats=self.seats,
            confirmed_at=then(self.confirmed_at),
            declined_at=then(self.declined_at),
            attendee_cancelled_at=then(self.attendee_cancelled_at),
            checked_in_at=then(self.checked_in_at),
        )


def listings_read(ids: Iterable[str]) -> dict[str, Listing]:
    found: dict[str, Listing] = {}
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        rows = EventListing.objects.filter(listing_id__in=ordered[start : start + _CHUNK], starts_at__isnull=False)
        for row in rows.values(
            "listing_id", "host_id", "category", "city", "price", "capacity", "created_at", "starts_at", "cancelled_at"
        ):
            if row["starts_at"] is None:
                continue
            found[row["listing_id"]] = Listing(
                listing_id=row["listing_id"],
                host_id=row["host_id"] or "",
                category=row["category"] or "",
                city=row["city"] or "",
                price=float(row["price"] or 0),
                capacity=row["capacity"],
                created_at=row["created_at"],
                starts_at=row["starts_at"],
                cancelled_at=row["cancelled_at"],
            )
    return found


def _seats(value: Any) -> int:
    try:
        return max(1, min(int(float(value)), 50))
    except (TypeError, ValueError):
        return 1


def requests_read(
    *, as_of: datetime, lookback_days: int = LOOKBACK_DAYS, listing_ids: list[str] | None = None
) -> list[Request]:
    """Every request made in `[as_of − lookback, as_of)` (for `listing_ids` only, when given) with what
    happened to it before `as_of`."""
    start = as_of - timedelta(days=lookback_days)
    window = UserEvent.objects.filter(
        timestamp__gte=start, timestamp__lt=as_of, user_id__isnull=False, listing_id__isnull=False
    )
    if listing_ids is not None:
        window = window.filter(listing_id__in=listing_ids)
    raw = list(
        window.filter(event_name="event_requested")
        .annotate(seat_count=KT("properties__seats"))
        .order_by("timestamp")
        .values_list("user_id", "listing_id", "timestamp", "seat_count")
    )
    listings = listings_read(str(listing) for _, listing, _, _ in raw)
    requests: dict[tuple[str, str], Request] = {}
    for user, listing_id, at, seats in raw:
        listing = listings.get(str(listing_id))
        key = (str(user), str(listing_id))
        if listing is None or key in requests:
            continue
        requests[key] = Request(user_id=key[0], listing=listing, requested_at=at, seats=_seats(seats))
    outcomes = window.filter(
        event_name__in=(
            "event_request_accepted",
            "event_request_declined",
            "payment_completed",
            "registration_cancelled",
            "event_checked_in",
        )
    ).values_list("event_name", "user_id", "listing_id", "timestamp")
    accepted: dict[tuple[str, str], datetime] = {}
    paid: dict[tuple[str, str], datetime] = {}
    for name, user, listing_id, at in outcomes.order_by("timestamp"):
        request = requests.get((str(user), str(listing_id)))
        if request is None or at < request.requested_at:
            continue
        if name == "event_request_accepted":
            accepted.setdefault(request.key, at)
        elif name == "event_request_declined":
            request.declined_at = request.declined_at or at
        elif name == "payment_completed":
            paid.setdefault(request.key, at)
        elif name == "registration_cancelled":
            request.attendee_cancelled_at = request.attendee_cancelled_at or at
        else:
            request.checked_in_at = request.checked_in_at or at
    for key, request in requests.items():
        if request.listing.paid:
            request.confirmed_at = paid.get(key)
        else:
            request.confirmed_at = accepted.get(key)
    return sorted(requests.values(), key=lambda r: (r.requested_at, r.user_id, r.listing.listing_id))


def requests_known_at(
    requests: Iterable[Request], *, as_of: datetime, lookback_days: int = LOOKBACK_DAYS
) -> list[Request]:
    """What `requests_read(as_of=…)` returns, derived from requests read at a later instant over a window
    that covers `[as_of − lookback, as_of)`: the calibration's earlier instants cost no further read."""
    start = as_of - timedelta(days=lookback_days)
    return [r.known_at(as_of) for r in requests if start <= r.requested_at < as_of]


# --- history at confirmation ------------------------------------------------------------------------------
PRIOR_WEIGHT = 2.0  # smoothed show-up rate = (check-ins + w·platform rate) / (seats + w)
PLATFORM_PRIOR_RATE = 0.7  # the platform's show-up rate before any seat has been resolved (weight 10)


def with_history(
    requests: list[Request],
    *,
    as_of: datetime,
    extra: Iterable[Request] = (),
    targets: list[Request] | None = None,
    activity: Activity | None = None,
) -> None:
    """Fill `history` of the confirmed `requests` (or of `targets`), and of `extra` ones (scored as if
    confirmed at their `confirmed_at`), from what was known when each was confirmed. `requests` must hold
    every request of the platform's lookback: people's and hosts' records are made of them. `activity`
    (views and sessions) is read here unless the caller read it already for a wider span."""
    chosen = [r for r in requests if r.confirmed_at is not None] if targets is None else list(targets)
    targets = chosen + list(extra)
    if not targets:
        return
    resolved = sorted((r for r in requests if r.outcome_known(as_of)), key=lambda r: r.listing.starts_at)
    users = {r.user_id for r in targets}
    earliest = min(r.confirmed_at or as_of for r in targets) - timedelta(days=LOOKBACK_DAYS)
    if activity is None or not activity.covers(users, start=earliest.timestamp(), end=as_of.timestamp()):
        activity = activity_read(users, start=earliest, end=as_of)
    asked: dict[str, list[datetime]] = defaultdict(list)
    for r in requests:
        asked[r.user_id].append(r.requested_at)
    for times in asked.values():
        times.sort()
    user_seats: Counter[str] = Counter()
    user_shows: Counter[str] = Counter()
    host_seats: Counter[str] = Counter()
    host_shows: Counter[str] = Counter()
    platform_seats = platform_shows = 0
    position = 0
    no_views, no_sessions = Views(), Sessions()
    for request in sorted(targets, key=lambda r: r.confirmed_at or as_of):
        at = request.confirmed_at or as_of
        while position < len(resolved) and resolved[position].listing.starts_at < at:
            done = resolved[position]
            user_seats[done.user_id] += 1
            user_shows[done.user_id] += done.attended
            host_seats[done.listing.host_id] += 1
            host_shows[done.listing.host_id] += done.attended
            platform_seats += 1
            platform_shows += done.attended
            position += 1
        platform_rate = (platform_shows + PLATFORM_PRIOR_RATE * 10.0) / (platform_seats + 10.0)
        user, host = request.user_id, request.listing.host_id
        now = at.timestamp()
        seen = activity.views.get(user, no_views)
        first_view, upto_view = seen.window(now - 90 * DAY, now)
        views_90 = upto_view - first_view
        priced = seen.price_count[upto_view] - seen.price_count[first_view] if views_90 else 0
        met = activity.sessions.get(user, no_sessions)
        starts = met.starts
        upto = bisect.bisect_left(starts, now)
        first_90 = bisect.bisect_left(starts, now - 90 * DAY)
        sessions_90 = upto - first_90
        last_14 = upto - bisect.bisect_left(starts, now - 14 * DAY)
        prior_60 = bisect.bisect_left(starts, now - 14 * DAY) - bisect.bisect_left(starts, now - 74 * DAY)
        first_known = bisect.bisect_left(starts, now - LOOKBACK_DAYS * DAY)
        request.history = {
            "user_prior_seats": float(user_seats[user]),
            "user_prior_check_ins": float(user_shows[user]),
            "user_show_rate": (user_shows[user] + PRIOR_WEIGHT * platform_rate) / (user_seats[user] + PRIOR_WEIGHT),
            "host_prior_seats": float(host_seats[host]),
            "host_show_rate": (host_shows[host] + 5.0 * platform_rate) / (host_seats[host] + 5.0),
            "category_view_share": (seen.categories[first_view:upto_view].count(request.listing.category) + 0.5)
            / (views_90 + 4.0),
            "views_90": float(views_90),
            "sessions_14": float(last_14),
            "session_trend": (last_14 / 14.0 + 0.02) / (prior_60 / 60.0 + 0.02),
            "days_since_session": (now - starts[upto - 1]) / DAY if upto else 180.0,
            "sessions_90": float(sessions_90),
            "weekend_session_share": (met.weekend[upto] - met.weekend[first_90]) / sessions_90
            if sessions_90
            else math.nan,
            "views_per_session": views_90 / sessions_90 if sessions_90 else math.nan,
            "mean_viewed_price": (seen.price_sum[upto_view] - seen.price_sum[first_view]) / priced
            if priced
            else math.nan,
            "requests_before": float(bisect.bisect_left(asked.get(user, []), request.requested_at)),
            # the first browsing session of the lookback before the seat (0 without one)
            "tenure_days": (now - starts[first_known]) / DAY if upto > first_known else 0.0,
        }
