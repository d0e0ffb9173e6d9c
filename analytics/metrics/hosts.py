"""Host-scoped selectors: a host's own listings and their audience, for the caller.

Scoping happens here, once: every selector takes the caller (`Principal`) and refuses — as
`NotFound`, so a host cannot learn whether another host exists (docs/design.md, "Access and scoping") — any host the
caller may not see. Audience aggregates suppress groups under `MIN_GROUP` people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum

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
    totals = {
        row["event_name"]: row
        for row in DailyEventRollup.objects.filter(
            day__gte=window.date_from,
            day__lte=window.date_to,
            listing_id__in=listing_ids,
            event_name__in=(
                "event_viewed",
                "event_requested",
                "event_checked_in",
                "review_submitted",
                *REVENUE_EVENTS,
            ),
        )
        .values("event_name")
        .annotate(n=Sum("events"), amt=Sum("amount"), st=Sum("seats"), rs=Sum("rating_sum"))
        .order_by()
    }

    def total(name: str, key: str = "n") -> int:
        return int((totals.get(name) or {}).get(key) or 0)

    viewers = UserEvent.objects.filter(
        event_name="event_viewed",
        listing_id__in=listing_ids,
        user_id__isnull=False,
        timestamp__gte=window.start,
        timestamp__lt=window.end,
    )
    by_city = list(viewers.values("city").annotate(n=Count("user_id", distinct=True)).order_by())
    by_platform = list(viewers.values("device_type").annotate(n=Count("user_id", distinct=True)).order_by())
    reviews = total("review_submitted")
    revenue = sum((Decimal((totals.get(n) or {}).get("amt") or 0) for n in REVENUE_EVENTS), Decimal(0))
    funnel = funnel_run(query=FunnelQuery(range=window), listing_ids=listing_ids)
    return HostOverview(
        host_id=host_id,
        days=days,
        date_from=window.date_from,
        date_to=window.date_to,
        listings=len(listing_ids),
        active_listings=int(statuses.get("active", 0)),
        cancelled_listings=int(statuses.get("cancelled", 0)),
        views=total("event_viewed"),
        unique_viewers=viewers.values("user_id").distinct().count(),
        requests=total("event_requested"),
        seats_requested=total("event_requested", "st"),
        conversion_rate=funnel.overall.conversion_rate,
        revenue=float(revenue),
        attendance=total("event_checked_in", "st"),
        check_ins=total("event_checked_in"),
        reviews=reviews,
        average_rating=None if not reviews else round(total("review_submitted", "rs") / reviews, 6),
        audience_by_city=audience_groups(by_city, "city"),
        audience_by_platform=audience_groups(by_platform, "device_type"),
    )
