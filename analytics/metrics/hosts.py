"""Host-scoped selectors: a host's own listings and their audience, for the caller.

Scoping happens here, once: every selector takes the caller (`Principal`) and refuses — as
`NotFound`, so a host cannot learn whether another host exists (docs/design.md, "Access and scoping") — any host the
caller may not see. Audience aggregates suppress groups under `MIN_GROUP` people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from analytics.errors import NotFound, ValidationFailed
from analytics.metrics.analyses import last_days
from analytics.metrics.analyses.funnels import FunnelQuery, funnel_run
from analytics.metrics.revenue import REVENUE_EVENTS
from analytics.models import DailyEventRollup, EventListing, UserEvent
from analytics.security.roles import Principal, Role

MIN_GROUP = 5
MAX_DAYS = 365
SUPPRESSED = "other (groups under 5)"


def host_access(*, caller: Principal, host_id: str) -> list[str]:
    """The host's listing ids, if the caller may see this host; else NotFound.

    A host always sees itself (with no listings yet, empty); admins and analysts see any host that
    has listings."""
    if not caller.may_see_host(host_id):
        raise NotFound(f"no host {host_id!r}", code="host_not_found")
    listings = list(EventListing.objects.filter(host_id=host_id).values_list("listing_id", flat=True))
    if not listings and caller.role != Role.HOST:
        raise NotFound(f"no host {host_id!r}", code="host_not_found")
    return listings


def listing_access(*, caller: Principal, listing_id: str) -> EventListing:
    """The listing, if the caller may see its host; else NotFound (an unknown listing alike)."""
    listing = EventListing.objects.filter(listing_id=listing_id).first()
    if listing is None or not caller.may_see_host(listing.host_id):
        raise NotFound(f"no listing {listing_id!r}", code="listing_not_found")
    return listing


@dataclass(frozen=True)
class AudienceGroup:
    value: str
    users: int


@dataclass(frozen=True)
class HostOverview:
    host_id: str
    days: int
    date_from: date
    date_to: date
    listings: int
    active_listings: int
    cancelled_listings: int
    views: int
    unique_viewers: int
    requests: int
    seats_requested: int
    conversion_rate: float | None  # the marketplace funnel over the host's listings (percent)
    revenue: float
    attendance: int  # checked-in seats
    check_ins: int
    reviews: int
    average_rating: float | None
    audience_by_city: list[AudienceGroup] = field(default_factory=list)
    audience_by_platform: list[AudienceGroup] = field(default_factory=list)


def audience_groups(rows: list[dict[str, object]], key: str) -> list[AudienceGroup]:
    groups: list[AudienceGroup] = []
    hidden = 0
    for row in sorted(rows, key=lambda r: (-int(r["n"]), str(r[key]))):  # type: ignore[call-overload]
        users = int(row["n"])  # type: ignore[call-overload]
        if users < MIN_GROUP:
            hidden += users
        else:
            groups.append(AudienceGroup(str(row[key] or "unknown"), users))
    if hidden >= MIN_GROUP:
        groups.append(AudienceGroup(SUPPRESSED, hidden))
    return groups


TOTALLED_EVENTS = ("event_viewed", "event_requested", "event_checked_in", "review_submitted", *REVENUE_EVENTS)


@dataclass(frozen=True)
class ListingTotals:
    """What the daily rollup counted for some listings, by event name: events, seats, rating sum, amount."""

    rows: dict[str, dict[str, Any]]

    def _get(self, name: str, key: str) -> Any:
        return (self.rows.get(name) or {}).get(key) or 0

    def events(self, name: str) -> int:
        return int(self._get(name, "n"))

    def seats(self, name: str) -> int:
        return int(self._get(name, "st"))

    def rating_sum(self, name: str) -> int:
        return int(self._get(name, "rs"))

    @property
    def revenue(self) -> float:
        return float(sum((Decimal(self._get(n, "amt")) for n in REVENUE_EVENTS), Decimal(0)))


def listing_totals(
    listing_ids: list[str], *, date_from: date | None = None, date_to: date | None = None
) -> ListingTotals:
    """One grouped read of the daily rollup for the listings (all their days, or those of the window)."""
    rows = DailyEventRollup.objects.filter(listing_id__in=listing_ids, event_name__in=TOTALLED_EVENTS)
    if date_from is not None:
        rows = rows.filter(day__gte=date_from)
    if date_to is not None:
        rows = rows.filter(day__lte=date_to)
    grouped = (
        rows.values("event_name")
        .annotate(n=Sum("events"), amt=Sum("amount"), st=Sum("seats"), rs=Sum("rating_sum"))
        .order_by()
    )
    return ListingTotals({row["event_name"]: row for row in grouped})


def viewer_audience(viewers: QuerySet[UserEvent]) -> tuple[list[AudienceGroup], list[AudienceGroup]]:
    """(by city, by platform) of the distinct identified people among `viewers`, small groups suppressed."""
    by_city = list(viewers.values("city").annotate(n=Count("user_id", distinct=True)).order_by())
    by_platform = list(viewers.values("device_type").annotate(n=Count("user_id", distinct=True)).order_by())
    return audience_groups(by_city, "city"), audience_groups(by_platform, "device_type")


def host_overview_get(*, caller: Principal, host_id: str, days: int = 30) -> HostOverview:
    """How are this host's own listings doing over the last `days` business days?"""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1…{MAX_DAYS}", code="invalid_days")
    listing_ids = host_access(caller=caller, host_id=host_id)
    window = last_days(days)
    statuses = dict(
        EventListing.objects.filter(host_id=host_id)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
        .order_by()
    )
    totals = listing_totals(listing_ids, date_from=window.date_from, date_to=window.date_to)
    viewers = UserEvent.objects.filter(
        event_name="event_viewed",
        listing_id__in=listing_ids,
        user_id__isnull=False,
        timestamp__gte=window.start,
        timestamp__lt=window.end,
    )
    by_city, by_platform = viewer_audience(viewers)
    reviews = totals.events("review_submitted")
    funnel = funnel_run(query=FunnelQuery(range=window), listing_ids=listing_ids)
    return HostOverview(
        host_id=host_id,
        days=days,
        date_from=window.date_from,
        date_to=window.date_to,
        listings=len(listing_ids),
        active_listings=int(statuses.get("active", 0)),
        cancelled_listings=int(statuses.get("cancelled", 0)),
        views=totals.events("event_viewed"),
        unique_viewers=viewers.values("user_id").distinct().count(),
        requests=totals.events("event_requested"),
        seats_requested=totals.seats("event_requested"),
        conversion_rate=funnel.overall.conversion_rate,
        revenue=totals.revenue,
        attendance=totals.seats("event_checked_in"),
        check_ins=totals.events("event_checked_in"),
        reviews=reviews,
        average_rating=None if not reviews else round(totals.rating_sum("review_submitted") / reviews, 6),
        audience_by_city=by_city,
        audience_by_platform=by_platform,
    )
