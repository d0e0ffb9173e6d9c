"""Reads over the daily rollups shared by the metric families (set-based, grouped in SQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum

from analytics.metrics.registry import MetricContext, Values
from analytics.models import DailyEventRollup, DailyUserActivity, DailyUserEvent, EventListing

UNKNOWN = "unknown"  # a breakdown value the tracked events did not carry
OVERALL = ""

# Events that are not user-initiated: they never make a user active.
NON_USER_EVENTS = ("api_request", "app_error")


@dataclass
class EventTotals:
    events: int = 0
    amount: Decimal = Decimal(0)
    seats: int = 0
    rating_sum: int = 0
    server_errors: int = 0


def _listing_field(field: str) -> Subquery:
    return Subquery(EventListing.objects.filter(listing_id=OuterRef("listing_id")).values(field)[:1])


def _with_breakdown(queryset: QuerySet[Any], breakdown: str | None) -> tuple[QuerySet[Any], str | None]:
    """Annotate `dim` for a breakdown: platform/city from the rollup, category/host from the listing."""
    if breakdown is None:
        return queryset, None
    if breakdown in ("platform", "city"):
        return queryset.annotate(dim=F(breakdown)), "dim"
    if breakdown == "category":
        return queryset.annotate(dim=_listing_field("category")), "dim"
    if breakdown == "host":
        return queryset.annotate(dim=_listing_field("host_id")), "dim"
    raise ValueError(f"unknown breakdown {breakdown!r}")


def _key(value: Any) -> str:
    return str(value) if value not in (None, "") else UNKNOWN


def event_totals(
    ctx: MetricContext, names: tuple[str, ...], breakdown: str | None = None
) -> dict[str, dict[str, EventTotals]]:
    """{breakdown value: {event name: totals}} over the period's days ("" when no breakdown)."""
    queryset = DailyEventRollup.objects.filter(day__gte=ctx.period.start, day__lte=ctx.period.end, event_name__in=names)
    queryset, dim = _with_breakdown(queryset, breakdown)
    group = ["event_name", dim] if dim else ["event_name"]
    rows = (
        queryset.values(*group)
        .annotate(n=Sum("events"), amt=Sum("amount"), st=Sum("seats"), rs=Sum("rating_sum"), se=Sum("server_errors"))
        .order_by()
    )
    result: dict[str, dict[str, EventTotals]] = defaultdict(dict)
    for row in rows:
        key = _key(row[dim]) if dim else OVERALL
        result[key][row["event_name"]] = EventTotals(
            events=int(row["n"] or 0),
            amount=Decimal(row["amt"] or 0),
            seats=int(row["st"] or 0),
            rating_sum=int(row["rs"] or 0),
            server_errors=int(row["se"] or 0),
        )
    if breakdown is None:
        result.setdefault(OVERALL, {})
    return result


def event_counts(ctx: MetricContext, names: tuple[str, ...], breakdown: str | None = None) -> dict[str, dict[str, int]]:
    """{breakdown value: {event name: count}} (missing names count 0)."""
    totals = event_totals(ctx, names, breakdown)
    return {
        key: {name: (by_name[name].events if name in by_name else 0) for name in names}
        for key, by_name in totals.items()
    }


def counts_total(names: tuple[str, ...]) -> Callable[[MetricContext, str | None], Values]:
    """How many of these events the period holds — a rate's denominator, as its volume."""

    def compute(ctx: MetricContext, breakdown: str | None) -> Values:
        return {key: float(sum(c[n] for n in names)) for key, c in event_counts(ctx, names, breakdown).items()}

    return compute


def active_users(ctx: MetricContext, breakdown: str | None = None) -> dict[str, int]:
    """Distinct identified users with user-initiated activity in the period, per breakdown value."""
    queryset = DailyUserActivity.objects.filter(day__gte=ctx.period.start, day__lte=ctx.period.end)
    if breakdown is None:
        return {OVERALL: queryset.values("user_id").distinct().count()}
    if breakdown not in ("platform", "city"):
        raise ValueError(f"active users have no {breakdown!r} breakdown")
    rows = queryset.values(breakdown).annotate(n=Count("user_id", distinct=True)).order_by()
    result: dict[str, int] = defaultdict(int)
    for row in rows:
        result[_key(row[breakdown])] += int(row["n"])
    return dict(result)


def daily_active_counts(ctx: MetricContext) -> dict[Any, int]:
    """{business day: distinct active users} for the period's days that had any."""
    rows = (
        DailyUserActivity.objects.filter(day__gte=ctx.period.start, day__lte=ctx.period.end)
        .values("day")
        .annotate(n=Count("user_id", distinct=True))
        .order_by()
    )
    return {row["day"]: int(row["n"]) for row in rows}


def users_who(ctx: MetricContext, event_name: str) -> QuerySet[Any]:
    """The distinct identified users who did `event_name` in the period (a values_list queryset)."""
    return (
        DailyUserEvent.objects.filter(day__gte=ctx.period.start, day__lte=ctx.period.end, event_name=event_name)
        .values_list("user_id", flat=True)
        .distinct()
    )


def active_user_ids(ctx: MetricContext) -> QuerySet[Any]:
    return (
        DailyUserActivity.objects.filter(day__gte=ctx.period.start, day__lte=ctx.period.end)
        .values_list("user_id", flat=True)
        .distinct()
    )


def per_key(values: dict[str, Any], keys: Any) -> dict[str, Any]:
    return {key: values.get(key) for key in keys}
