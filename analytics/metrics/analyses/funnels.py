"""Funnels: ordered steps per user, within a conversion window, per-step conversion and median time.

The default funnel is the marketplace's (ARCHITECTURE.md §7): event_viewed → event_requested →
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

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, median, percent
from analytics.models import EventListing, UserEvent

DEFAULT_STEPS = ("event_viewed", "event_requested", "payment_completed", "event_checked_in")
DEFAULT_WINDOW_DAYS = 14
MAX_STEPS = 10
MAX_WINDOW_DAYS = 90
PAYMENT_STEP = "payment_completed"
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
UNKNOWN = "unknown"
_CHUNK = 5000


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


@dataclass
class _Path:
    entry: datetime
    reached: int
    times: list[datetime | None]  # None: a skipped step


def _first_at_or_after(times: list[datetime], instant: datetime) -> datetime | None:
    i = bisect_left(times, instant)
    return times[i] if i < len(times) else None


def _walk(query: FunnelQuery, steps: dict[str, list[datetime]], entry: datetime, free: bool) -> _Path:
    deadline = entry + timedelta(days=query.window_days)
    times: list[datetime | None] = [entry]
    at = entry
    for name in query.steps[1:]:
        if name == PAYMENT_STEP and free:
            times.append(None)
            continue
        nxt = _first_at_or_after(steps.get(name, []), at)
        if nxt is None or nxt > deadline:
            break
        times.append(nxt)
        at = nxt
    return _Path(entry=entry, reached=len(times), times=times)


def _series(query: FunnelQuery, value: str | None, paths: dict[str, _Path], entrants: int) -> FunnelSeries:
    n = len(query.steps)
    counts = [sum(1 for p in paths.values() if p.reached > k) for k in range(n)]
    counts[0] = entrants
    steps = []
    for k in range(n):
        gaps: list[float] = []
        totals: list[float] = []
        if k:
            for p in paths.values():
                if p.reached <= k or p.times[k] is None:
                    continue
                previous = next((t for t in reversed(p.times[:k]) if t is not None), p.entry)
                gaps.append((p.times[k] - previous).total_seconds())  # type: ignore[operator]
                totals.append((p.times[k] - p.entry).total_seconds())  # type: ignore[operator]
        steps.append(
            FunnelStep(
                order=k + 1,
                event_name=query.steps[k],
                count=counts[k],
                conversion_from_previous=percent(counts[k], counts[k - 1]) if k else percent(counts[0], counts[0]),
                conversion_from_start=percent(counts[k], counts[0]),
                median_seconds_from_previous=median(gaps) if k else None,
                median_seconds_from_start=median(totals) if k else None,
            )
        )
    return FunnelSeries(value, entrants, counts[-1], percent(counts[-1], entrants), steps)


def _listings() -> dict[str, tuple[bool, str, str]]:
    return {
        lid: (price is not None and price == 0, category or UNKNOWN, host or UNKNOWN)
        for lid, price, category, host in EventListing.objects.values_list(
            "listing_id", "price", "category", "host_id"
        ).iterator(chunk_size=_CHUNK)
    }


def funnel_run(*, query: FunnelQuery, listing_ids: list[str] | None = None) -> FunnelResult:
    """How many people go from the first step to each later step, in order, within the window?

    `listing_ids` scopes the funnel to those listings (a host's own; `[]` means none).
    """
    rng = query.range
    start, end = rng.start, rng.end
    first = query.steps[0]
    entries = UserEvent.objects.filter(event_name=first, user_id__isnull=False, timestamp__gte=start, timestamp__lt=end)
    if listing_ids is not None:
        entries = entries.filter(listing_id__in=listing_ids)
    by_listing = query.by_listing
    rows = UserEvent.objects.filter(
        event_name__in=set(query.steps),
        user_id__in=entries.values("user_id"),
        timestamp__gte=start,
        timestamp__lt=end + timedelta(days=query.window_days),
    )
    if first not in query.steps[1:]:  # first-step events after the range can never be an entry
        rows = rows.exclude(event_name=first, timestamp__gte=end)
    if by_listing:
        rows = rows.filter(listing_id__isnull=False)
    if listing_ids is not None:
        rows = rows.filter(listing_id__in=listing_ids)
    listings = _listings() if by_listing else {}
    # journey key (user, listing or "") → step name → sorted times; entry rows keep their dimensions
    journeys: dict[tuple[str, str], dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    entry_dims: dict[tuple[str, str, datetime], tuple[str, str]] = {}
    need_dims = query.breakdown in ("platform", "city")
    for user, listing, name, at, device, city in (
        rows.order_by("timestamp", "id")
        .values_list("user_id", "listing_id", "event_name", "timestamp", "device_type", "city")
        .iterator(chunk_size=_CHUNK)
    ):
        key = (str(user), str(listing or "") if by_listing else "")
        journeys[key][name].append(at)
        if need_dims and name == first and start <= at < end:
            entry_dims.setdefault((key[0], key[1], at), (device or UNKNOWN, city or UNKNOWN))

    # Best path per user, and per (breakdown value, user).
    best: dict[str, _Path] = {}
    best_by: dict[str, dict[str, _Path]] = defaultdict(dict)
    entrants_by: dict[str, set[str]] = defaultdict(set)
    for (user, listing), steps in journeys.items():
        free, category, host = listings.get(listing, (False, UNKNOWN, UNKNOWN))
        free = free and query.skip_payment_for_free and by_listing
        for entry in steps.get(first, []):
            if not start <= entry < end:
                continue
            path = _walk(query, steps, entry, free)
            if _better(path, best.get(user)):
                best[user] = path
            if query.breakdown:
                device, city = entry_dims.get((user, listing, entry), (UNKNOWN, UNKNOWN))
                value = {"platform": device, "city": city, "category": category, "host": host}[query.breakdown]
                entrants_by[value].add(user)
                if _better(path, best_by[value].get(user)):
                    best_by[value][user] = path
    # Entrants: identified users with a first-step event in the range (with or without a listing).
    entrants = entries.values("user_id").distinct().count()
    overall = _series(query, None, best, entrants)
    breakdown = [
        _series(query, value, best_by[value], len(entrants_by[value]))
        for value in sorted(entrants_by, key=lambda v: (-len(entrants_by[v]), v))
    ]
    return FunnelResult(query=query, by_listing=by_listing, overall=overall, breakdown=breakdown)


def _better(path: _Path, current: _Path | None) -> bool:
    return current is None or (path.reached, -path.entry.timestamp()) > (
        current.reached,
        -current.entry.timestamp(),
    )


def funnel_as_dict(result: FunnelResult) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(result)
    data.pop("query")
    return data
