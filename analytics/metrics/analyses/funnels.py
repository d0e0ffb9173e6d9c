"""Funnels: ordered steps per user, within a conversion window, per-step conversion and median time.

The default funnel is the marketplace's (docs/design.md, "Definitions"): event_viewed → event_requested →
payment_completed → event_checked_in, followed *for one listing*, the payment step skipped for a free
listing (price 0), conversion window 14 days. Its definition is exactly docs/metrics.md's
`overall_conversion_rate`, so the last step's conversion over a range equals that metric over the
same range:

- entrants: identified users with a first-step event in the range;
- a user reaches step k when, from some first-step event in the range, the later steps follow in
  order — each the earliest at or after the previous one — with step k at most `window` after the
  entry. (Taking the earliest next event is optimal: if any ordered path exists, this one does.)
  Later steps may fall after the range;
- per user, the path that gets furthest (ties: the earliest entry) gives the times between steps;
  a skipped payment step has no time of its own and is left out of that step's median.

Breakdown by `platform` / `city` (of the entry event) or `category` / `host` (of the listing, as it is
now): a user counts in every value through which they entered the funnel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, percent
from analytics.metrics.analyses.funnel_paths import (
    DEFAULT_STEPS,
    DEFAULT_WINDOW_DAYS,
    EntrantPath,
    FunnelSpec,
    FunnelTally,
    funnel_paths,
    tally_found,
    tally_paths,
)
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.funnels import funnel_tallies_clickhouse
from analytics.models import DailyFunnelReach, DailyUserEvent

__all__ = ["DEFAULT_STEPS", "DEFAULT_WINDOW_DAYS", "FunnelQuery", "FunnelResult", "funnel_as_dict", "funnel_run"]
MAX_STEPS = 10
MAX_WINDOW_DAYS = 90
BREAKDOWNS = ("platform", "city", "category", "host")
# Events of the tracking plan that carry a listing_id: a funnel of only these follows one listing.
LISTING_EVENTS = frozenset(
    {
        "event_viewed",
        "event_created",
        "event_updated",
        "event_cancelled",
        "event_requested",
        "event_request_accepted",
        "event_request_declined",
        "event_invite_sent",
        "payment_initiated",
        "payment_completed",
        "payment_failed",
        "payment_refunded",
        "payment_chargeback",
        "event_checked_in",
        "event_checked_out",
        "review_submitted",
    }
)


@dataclass(frozen=True)
class FunnelQuery:
    range: DateRange
    steps: tuple[str, ...] = DEFAULT_STEPS
    window_days: int = DEFAULT_WINDOW_DAYS
    breakdown: str | None = None
    same_listing: bool | None = None  # None: follow one listing when every step is a listing event
    skip_payment_for_free: bool = True

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValidationFailed("a funnel needs at least one step", code="empty_funnel")
        if len(self.steps) > MAX_STEPS:
            raise ValidationFailed(
                f"a funnel has at most {MAX_STEPS} steps",
                code="too_many_steps",
                details={"max_steps": MAX_STEPS},
            )
        if any(not isinstance(s, str) or not s.strip() or len(s) > 200 for s in self.steps):
            raise ValidationFailed("every step is a non-empty event name", code="invalid_step")
        if not 1 <= self.window_days <= MAX_WINDOW_DAYS:
            raise ValidationFailed(f"window_days is 1…{MAX_WINDOW_DAYS}", code="invalid_window")
        if self.breakdown is not None and self.breakdown not in BREAKDOWNS:
            raise ValidationFailed(
                f"unknown breakdown {self.breakdown!r}; use one of {', '.join(BREAKDOWNS)}",
                code="invalid_breakdown",
            )
        if self.by_listing is False and self.breakdown in ("category", "host"):
            raise ValidationFailed(
                "a category or host breakdown needs a funnel that follows one listing",
                code="invalid_breakdown",
            )

    @property
    def by_listing(self) -> bool:
        if self.same_listing is not None:
            return self.same_listing
        return all(step in LISTING_EVENTS for step in self.steps)


@dataclass(frozen=True)
class FunnelStep:
    order: int
    event_name: str
    count: int
    conversion_from_previous: float | None  # percent
    conversion_from_start: float | None  # percent
    median_seconds_from_previous: float | None
    median_seconds_from_start: float | None


@dataclass(frozen=True)
class FunnelSeries:
    breakdown_value: str | None
    entrants: int
    converted: int
    conversion_rate: float | None  # percent: last step ÷ entrants
    steps: list[FunnelStep]


@dataclass(frozen=True)
class FunnelResult:
    query: FunnelQuery
    by_listing: bool
    overall: FunnelSeries
    breakdown: list[FunnelSeries] = field(default_factory=list)
    # "rollup": the marketplace funnel read from `DailyFunnelReach` (as fresh as the last metrics run);
    # "events": computed from the tracked events now; "clickhouse": from them, by the analytics engine.
    computed_from: str = "events"


def _series(query: FunnelQuery, value: str | None, tally: FunnelTally) -> FunnelSeries:
    counts = tally.counts
    steps = []
    for k in range(len(query.steps)):
        steps.append(
            FunnelStep(
                order=k + 1,
                event_name=query.steps[k],
                count=counts[k],
                conversion_from_previous=percent(counts[k], counts[k - 1]) if k else percent(counts[0], counts[0]),
                conversion_from_start=percent(counts[k], counts[0]),
                median_seconds_from_previous=tally.from_previous[k],
                median_seconds_from_start=tally.from_start[k],
            )
        )
    return FunnelSeries(value, tally.entrants, counts[-1], percent(counts[-1], tally.entrants), steps)


def funnel_spec(query: FunnelQuery, listing_ids: list[str] | None = None) -> FunnelSpec:
    return FunnelSpec(
        steps=query.steps,
        start=query.range.start,
        end=query.range.end,
        window_days=query.window_days,
        by_listing=query.by_listing,
        skip_payment_for_free=query.skip_payment_for_free,
        breakdown=query.breakdown,
        listing_ids=None if listing_ids is None else tuple(listing_ids),
    )


def is_marketplace_funnel(query: FunnelQuery) -> bool:
    """The default funnel as `overall_conversion_rate` defines it, for everyone, without a breakdown."""
    return (
        query.steps == DEFAULT_STEPS
        and query.window_days == DEFAULT_WINDOW_DAYS
        and query.by_listing
        and query.skip_payment_for_free
        and query.breakdown is None
    )


def _from_rollup(query: FunnelQuery) -> FunnelResult:
    """The marketplace funnel over whole business days from the funnel-reach rollup: each user's best path
    of the range is the best of their days' best paths (most steps, then the earliest view)."""
    rng = query.range
    entrants = (
        DailyUserEvent.objects.filter(day__gte=rng.date_from, day__lte=rng.date_to, event_name=DEFAULT_STEPS[0])
        .values("user_id")
        .distinct()
        .count()
    )
    # Each user's best day is picked in SQL (one row per user leaves the database, not one per user-day).
    rank = Window(RowNumber(), partition_by=[F("user_id")], order_by=[F("reached").desc(), F("viewed_at").asc()])
    rows = (
        DailyFunnelReach.objects.filter(day__gte=rng.date_from, day__lte=rng.date_to)
        .annotate(rank=rank)
        .filter(rank=1)
        .values_list("user_id", "reached", "viewed_at", "requested_at", "paid_at", "checked_in_at")
    )
    best = [
        EntrantPath(user_id, None, reached, tuple(times[:reached]))
        for user_id, reached, *times in rows.iterator(chunk_size=10_000)
    ]
    overall = _series(query, None, tally_paths(best, entrants, len(query.steps)))
    return FunnelResult(query=query, by_listing=True, overall=overall, computed_from="rollup")


def funnel_run(*, query: FunnelQuery, listing_ids: list[str] | None = None, from_rollup: bool = False) -> FunnelResult:
    """How many people go from the first step to each later step, in order, within the window?

    `listing_ids` scopes the funnel to those listings (a host's own; `[]` means none). `from_rollup`: serve
    the marketplace funnel (no breakdown, no scope) from the funnel-reach rollup — milliseconds instead of
    seconds over months of events, as fresh as the last metrics run; any other funnel reads the events.
    """
    if from_rollup and listing_ids is None and is_marketplace_funnel(query):
        return _from_rollup(query)
    analytics_engine = engine()
    spec = funnel_spec(query, listing_ids)
    if analytics_engine is not None:
        tallies = funnel_tallies_clickhouse(spec, *analytics_engine)
    else:
        tallies = tally_found(funnel_paths(spec), len(query.steps))
    overall = _series(query, None, tallies.overall)
    by_value = tallies.by_value
    breakdown = [
        _series(query, value, by_value[value]) for value in sorted(by_value, key=lambda v: (-by_value[v].entrants, v))
    ]
    computed_from = "events" if analytics_engine is None else "clickhouse"
    return FunnelResult(
        query=query, by_listing=query.by_listing, overall=overall, breakdown=breakdown, computed_from=computed_from
    )


def funnel_as_dict(result: FunnelResult) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(result)
    data.pop("query")
    return data
