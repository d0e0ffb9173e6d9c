"""Listings: cancellations, host drop-out, event success and sell-out, listing creation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.db.models.functions import Coalesce

from analytics.metrics.registry import (
    Direction,
    Kind,
    MetricContext,
    MetricDefinition,
    Unit,
    Values,
    ratio,
    register,
)
from analytics.metrics.selectors import OVERALL, UNKNOWN
from analytics.models import DailyEventRollup, EventListing, UserEvent
from analytics.models.listings import ListingStatus

LISTING_BREAKDOWNS = ("city", "category", "host")
_LISTING_COLUMN = {"city": "city", "category": "category", "host": "host_id"}
SUCCESS_FILL = 0.8


def _group(listings: list[dict[str, Any]], breakdown: str | None) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    if breakdown is None:
        return {OVERALL: listings}
    for listing in listings:
        groups.setdefault(listing[_LISTING_COLUMN[breakdown]] or UNKNOWN, []).append(listing)
    return groups


def _scheduled(ctx: MetricContext) -> QuerySet[EventListing]:
    return EventListing.objects.filter(starts_at__gte=ctx.start, starts_at__lt=ctx.end)


def _share(
    select: Callable[[MetricContext], list[dict[str, Any]]], hit: Callable[[dict[str, Any]], bool]
) -> Callable[[MetricContext, str | None], Values]:
    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        groups = _group(select(ctx), breakdown)
        if breakdown is None and not groups[OVERALL]:
            return {OVERALL: None}
        return {key: ratio(sum(1 for item in items if hit(item)), len(items)) for key, items in groups.items()}

    return compute


def _count(select: Callable[[MetricContext], list[dict[str, Any]]]) -> Callable[[MetricContext, str | None], Values]:
    """How many listings a share is taken over (its volume)."""

    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        return {key: float(len(items)) for key, items in _group(select(ctx), breakdown).items()}

    return compute


# A share of fewer listings (or hosts) than this swings by 10 points or more with one of them.
MIN_LISTINGS = 10
MIN_HOSTS = 10

_FIELDS = ("listing_id", "city", "category", "host_id", "status", "capacity", "cancelled_at")


def _scheduled_listings(ctx: MetricContext) -> list[dict[str, Any]]:
    return list(_scheduled(ctx).values(*_FIELDS))


def _requested_listings(ctx: MetricContext) -> list[dict[str, Any]]:
    requested = UserEvent.objects.filter(event_name="event_requested", listing_id=OuterRef("listing_id"))
    before_cancel = requested.filter(timestamp__lt=OuterRef("cancelled_at"))
    return list(
        _scheduled(ctx)
        .filter(Exists(requested))
        .annotate(after_request=Exists(before_cancel))
        .values(*_FIELDS, "after_request")
    )


def _finished_listings(ctx: MetricContext) -> list[dict[str, Any]]:
    listings = list(
        EventListing.objects.annotate(ended=Coalesce("ends_at", "starts_at"))
        .filter(
            ended__gte=ctx.start,
            ended__lt=ctx.end,
            ended__lte=ctx.now,
            status=ListingStatus.ACTIVE,
            capacity__gt=0,
        )
        .values(*_FIELDS)
    )
    seats = dict(
        DailyEventRollup.objects.filter(
            event_name="event_checked_in", listing_id__in=[item["listing_id"] for item in listings]
        )
        .values("listing_id")
        .annotate(n=Sum("seats"))
        .values_list("listing_id", "n")
        .order_by()
    )
    for item in listings:
        item["checked_in"] = int(seats.get(item["listing_id"]) or 0)
    return listings


SCHEDULED = "listings whose starts_at falls in the period (EventListing, folded from event_created/updated/cancelled)"
FINISHED = (
    "finished listings: not cancelled, capacity ≥ 1, whose end (ends_at, else starts_at) falls in the "
    "period and is not after the calculation time; checked-in seats = sum of `seats` of all "
    "event_checked_in events of the listing"
)

register(
    MetricDefinition(
        name="listing_cancellation_rate",
        kind=Kind.KRI,
        category="listings",
        unit=Unit.PERCENT,
        question="How many scheduled listings are called off?",
        definition=f"Cancelled listings ÷ {SCHEDULED} × 100. No data without scheduled listings.",
        direction=Direction.DOWN,
        compute=_share(_scheduled_listings, lambda i: i["status"] == ListingStatus.CANCELLED),
        volume=_count(_scheduled_listings),
        min_volume=MIN_LISTINGS,
        volume_label="scheduled listings",
        breakdowns=LISTING_BREAKDOWNS,
        warning=10,
        critical=20,
    )
)
register(
    MetricDefinition(
        name="host_cancellation_rate",
        kind=Kind.KRI,
        category="listings",
        unit=Unit.PERCENT,
        question="How often does a host cancel a listing people had already asked to join?",
        definition=f"Of the {SCHEDULED} that received at least one event_requested, the share cancelled after "
        "their first request (cancelled_at later than an event_requested) × 100. No data when no "
        "scheduled listing was requested.",
        direction=Direction.DOWN,
        compute=_share(_requested_listings, lambda i: bool(i["after_request"])),
        volume=_count(_requested_listings),
        min_volume=MIN_LISTINGS,
        volume_label="requested listings",
        breakdowns=LISTING_BREAKDOWNS,
        warning=5,
        critical=10,
    )
)
register(
    MetricDefinition(
        name="event_success_rate",
        kind=Kind.KPI,
        category="listings",
        unit=Unit.PERCENT,
        question="Do the listings that took place fill their rooms?",
        definition=f"Share of {FINISHED}, whose checked-in seats reach 80% of capacity, × 100. No data without "
        "finished listings.",
        direction=Direction.UP,
        compute=_share(_finished_listings, lambda i: i["checked_in"] >= SUCCESS_FILL * i["capacity"]),
        volume=_count(_finished_listings),
        min_volume=MIN_LISTINGS,
        volume_label="finished listings",
        breakdowns=LISTING_BREAKDOWNS,
        warning=50,
        critical=30,
    )
)
register(
    MetricDefinition(
        name="sell_out_rate",
        kind=Kind.KPI,
        category="listings",
        unit=Unit.PERCENT,
        question="How many listings that took place were full?",
        definition=f"Share of {FINISHED}, whose checked-in seats reach capacity, × 100. No data without "
        "finished listings.",
        direction=Direction.UP,
        compute=_share(_finished_listings, lambda i: i["checked_in"] >= i["capacity"]),
        volume=_count(_finished_listings),
        min_volume=MIN_LISTINGS,
        volume_label="finished listings",
        breakdowns=LISTING_BREAKDOWNS,
    )
)


def _hosts_creating(ctx: MetricContext) -> QuerySet[Any]:
    return (
        UserEvent.objects.filter(
            event_name="event_created", timestamp__gte=ctx.start, timestamp__lt=ctx.end, host_id__isnull=False
        )
        .values_list("host_id", flat=True)
        .distinct()
    )


def _hosts_before(ctx: MetricContext) -> QuerySet[Any]:
    return _hosts_creating(ctx.evaluator.context(ctx.period.previous()))


def _host_dropout(ctx: MetricContext, breakdown: str | None) -> Values:
    before = _hosts_before(ctx)
    total = before.count()
    if not total:
        return {OVERALL: None}
    stayed = _hosts_creating(ctx).filter(host_id__in=before).count()
    return {OVERALL: ratio(total - stayed, total)}


def _hosts_publishing_before(ctx: MetricContext, breakdown: str | None) -> Values:
    """The hosts a drop-out rate is taken over (those who published in the previous period)."""
    return {OVERALL: float(_hosts_before(ctx).count())}


def _listings_created(ctx: MetricContext, breakdown: str | None) -> Values:
    created = UserEvent.objects.filter(
        event_name="event_created", timestamp__gte=ctx.start, timestamp__lt=ctx.end, listing_id__isnull=False
    )
    return {OVERALL: float(created.values("listing_id").distinct().count())}


register(
    MetricDefinition(
        name="host_dropout_rate",
        kind=Kind.KRI,
        category="listings",
        unit=Unit.PERCENT,
        question="Are hosts who published last month still publishing?",
        definition="Hosts (host_id) with an event_created in the previous month and none in this month ÷ hosts "
        "with an event_created in the previous month × 100. No data when no host published in the previous "
        "month. Monthly only: hosts of events publish every few weeks, so a week without a new listing is "
        "their rhythm, not a drop-out (weekly, half of the demo's hosts 'dropped out' every week).",
        direction=Direction.DOWN,
        compute=_host_dropout,
        volume=_hosts_publishing_before,
        min_volume=MIN_HOSTS,
        volume_label="hosts who published in the previous month",
        periods=("month",),
        warning=30,
        critical=50,
    )
)
register(
    MetricDefinition(
        name="listings_created",
        kind=Kind.KPI,
        category="listings",
        unit=Unit.COUNT,
        question="How many listings do hosts publish?",
        definition="Distinct listing_ids of event_created events in the period. 0 when none.",
        direction=Direction.UP,
        compute=_listings_created,
    )
)
