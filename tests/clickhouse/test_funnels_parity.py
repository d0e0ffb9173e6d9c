"""Funnels: the analytics engine (chDB) answers exactly what the SQL engine answers.

On one simulated platform (tests/support/cross_check.py, replicated with `clickhouse_sync`), a matrix of
funnels runs on both engines: the `FunnelResult`s are compared field by field (all but `computed_from`),
and so are the engines' raw paths (every entrant's best path, its entry and its microsecond times).
Then the brute-force reading of the funnel semantics (tests/unit/metrics/analyses/test_funnel_engine.py)
is held against the analytics engine on random small journeys, as it is against the SQL engine.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count

from analytics import clock
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.funnel_paths import (
    DEFAULT_STEPS,
    EntrantPath,
    FunnelPaths,
    FunnelSpec,
    funnel_paths,
    tally_found,
)
from analytics.metrics.analyses.funnels import FunnelQuery, funnel_run, funnel_spec
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.client import ClickHouse
from analytics.metrics.clickhouse.funnels import funnel_paths_clickhouse, funnel_tallies_clickhouse
from analytics.metrics.clickhouse.replication import replication_run
from analytics.metrics.clickhouse.schema import Layout
from analytics.models import EventListing, ReplicaPending, UserEvent
from tests.clickhouse.conftest import engine_off, engine_on
from tests.support.cross_check import END_DATE, FIRST_DAY, NOW
from tests.unit.metrics.analyses.test_funnel_engine import FREE, LISTINGS, NAMES, Row, reference

pytestmark = pytest.mark.django_db

WHOLE = DateRange(FIRST_DAY, END_DATE - timedelta(days=1))
WEEK = DateRange(END_DATE - timedelta(days=14), END_DATE - timedelta(days=8))
HOST = "host"  # stands for the listings of the platform's busiest host (read once the platform exists)

# (id, FunnelQuery arguments, listing_ids, a non-trivial answer expected: entrants and some conversion)
MATRIX: list[tuple[str, dict[str, Any], Any, bool]] = [
    ("marketplace", {}, None, True),
    ("platform", {"breakdown": "platform"}, None, True),
    ("city", {"breakdown": "city"}, None, True),
    ("category", {"breakdown": "category"}, None, True),
    ("host", {"breakdown": "host"}, None, True),
    ("by-user", {"same_listing": False}, None, True),
    ("by-user-platform", {"same_listing": False, "breakdown": "platform"}, None, True),
    ("two-steps", {"steps": ("event_viewed", "event_requested")}, None, True),
    ("page-view-twice", {"steps": ("page_view", "page_view")}, None, True),
    ("view-search-view", {"steps": ("event_viewed", "search_performed", "event_viewed")}, None, True),
    ("request-pay-request", {"steps": ("event_requested", "payment_completed", "event_requested")}, None, True),
    ("pay-first", {"steps": ("payment_completed", "event_checked_in")}, None, True),
    ("ten-steps", {"steps": (*DEFAULT_STEPS, *DEFAULT_STEPS, *DEFAULT_STEPS[:2])}, None, True),
    ("window-1-day", {"window_days": 1}, None, True),
    ("no-free-skip", {"skip_payment_for_free": False}, None, True),
    ("host-scope", {}, HOST, True),
    ("host-scope-category", {"breakdown": "category"}, HOST, True),
    ("empty-scope", {}, [], False),
    ("one-week", {"range": WEEK}, None, True),
    ("one-week-window-90", {"range": WEEK, "window_days": 90, "breakdown": "city"}, None, True),
    # (A one-step funnel of a listing event fails on the SQL engine itself: IndexError in `_skipped`.)
    ("one-step", {"steps": ("page_view",)}, None, False),
    ("no-such-event", {"steps": ("no_such_event", "event_viewed")}, None, False),
]


def busiest_host_listings() -> list[str]:
    host = (
        EventListing.objects.exclude(host_id="")
        .values("host_id")
        .annotate(n=Count("id"))
        .order_by("-n", "host_id")
        .values_list("host_id", flat=True)
        .first()
    )
    assert host is not None
    return sorted(EventListing.objects.filter(host_id=host).values_list("listing_id", flat=True))


def served(found: FunnelPaths) -> tuple[int, dict[str, int], list[tuple[Any, ...]]]:
    """The engine's answer, order-free: entrants, entrants by value, every path."""
    paths = sorted(
        (p.user_id, p.breakdown_value or "", p.reached, p.times, p.entry_id) for p in found.paths
    )  # times: microsecond-exact aware datetimes (compared as instants)
    return found.entrants, found.entrants_by, paths


def on_engine(settings: Any, chdb_dir: Path) -> tuple[ClickHouse, Layout]:
    engine_on(settings, chdb_dir)
    found = engine()
    assert found is not None
    return found


@pytest.mark.parametrize(("kwargs", "listing_ids", "converts"), [m[1:] for m in MATRIX], ids=[m[0] for m in MATRIX])
def test_funnels_equal_on_both_engines(
    platform: None, settings: Any, chdb_dir: Path, kwargs: dict[str, Any], listing_ids: Any, converts: bool
) -> None:
    clock.freeze(NOW)
    if listing_ids == HOST:
        listing_ids = busiest_host_listings()
    query = FunnelQuery(range=kwargs.pop("range", WHOLE), **kwargs)
    engine_off(settings)
    sql_result = funnel_run(query=query, listing_ids=listing_ids, from_rollup=False)
    sql_paths = funnel_paths(funnel_spec(query, listing_ids))
    client, layout = on_engine(settings, chdb_dir)
    ours_result = funnel_run(query=query, listing_ids=listing_ids, from_rollup=False)
    ours_paths = funnel_paths_clickhouse(funnel_spec(query, listing_ids), client, layout)

    assert (sql_result.computed_from, ours_result.computed_from) == ("events", "clickhouse")
    sql, ours = asdict(sql_result), asdict(ours_result)
    sql.pop("computed_from"), ours.pop("computed_from")
    assert ours == sql
    assert served(ours_paths) == served(sql_paths)
    assert all(t is None or t.utcoffset() == timedelta(0) for p in ours_paths.paths for t in p.times)
    if converts:  # a real answer, not two empty ones
        assert sql_result.overall.entrants > 0
        assert sql_result.overall.steps[1].count > 0
        assert sql_result.overall.steps[1].median_seconds_from_previous is not None
        if query.breakdown:
            assert len(sql_result.breakdown) > (1 if listing_ids is None else 0)
    elif len(query.steps) == 1:  # everyone who entered, nobody past step 1
        assert sql_result.overall.entrants > 0 and not ours_paths.paths
    else:
        assert sql_result.overall.converted == 0


def test_the_marketplace_funnel_skips_free_payments_and_reaches_the_end(
    platform: None, settings: Any, chdb_dir: Path
) -> None:
    """The matrix's default funnel is not a trivial one: paths reach check-in both through a free listing
    (the payment skipped, no time of its own) and through a paid one. And with the engine on, the API's
    request (`from_rollup=True`) is still served from the rollup, on the SQL side."""
    clock.freeze(NOW)
    query = FunnelQuery(range=WHOLE)
    client, layout = on_engine(settings, chdb_dir)
    found = funnel_paths_clickhouse(funnel_spec(query), client, layout)
    assert any(p.reached == 4 and p.times[2] is None for p in found.paths)  # a free listing, checked in
    assert any(p.reached == 4 and p.times[2] is not None for p in found.paths)  # a paid one
    result = funnel_run(query=query, from_rollup=True)  # the rollup stays on the SQL side
    assert result.computed_from == "rollup"


def test_the_rollup_specs_equal_on_both_engines(platform: None, settings: Any, chdb_dir: Path) -> None:
    """What the funnel-reach rollup asks (every entry past step 1, some users only) — not served by the
    engine today (rollups stay on the SQL side), but the function answers it the same."""
    clock.freeze(NOW)
    users = tuple(sorted(UserEvent.objects.exclude(user_id=None).values_list("user_id", flat=True).distinct())[:80])
    for breakdown in (None, "platform"):
        spec = FunnelSpec(
            steps=("event_viewed", "event_requested", "payment_completed", "event_checked_in"),
            start=WEEK.start,
            end=WEEK.end,
            window_days=14,
            by_listing=True,
            skip_payment_for_free=True,
            breakdown=breakdown,
            user_ids=users,
            all_entries=True,
        )
        engine_off(settings)
        sql = served(funnel_paths(spec))
        client, layout = on_engine(settings, chdb_dir)
        ours = served(funnel_paths_clickhouse(spec, client, layout))
        assert ours == sql
        assert len(sql[2]) > 0


# --- the brute force against the analytics engine --------------------------------------------------------

ERA = datetime(2031, 1, 1, tzinfo=UTC)  # far from the platform: its events never meet these


def random_journeys(rng: random.Random, origin: datetime, seed: int) -> list[Row]:
    """Random journeys (as test_funnel_engine's) from `origin`: whole hours, often an instant the user already
    had (ids and time disagree there: stored in random order), some microsecond offsets; stored, then
    replicated into the engine."""
    EventListing.objects.bulk_create(
        EventListing(listing_id=listing, price=Decimal(0 if listing in FREE else 499), state_at=origin)
        for listing in LISTINGS
    )
    events = []
    for n in range(rng.randint(8, 16)):
        user = None if n == 0 else f"bf{seed}-u{n}"  # one anonymous visitor: never an entrant
        instants: list[datetime] = []
        for _ in range(rng.randint(0, 14)):
            at = origin + timedelta(hours=rng.randrange(0, 30 * 24, rng.choice((1, 6))))
            if rng.random() < 0.2:
                at += timedelta(microseconds=rng.randrange(1, 1_000_000))
            if instants and rng.random() < 0.3:
                at = rng.choice(instants)
            instants.append(at)
            events.append(
                UserEvent(
                    uuid=uuid.uuid4(),
                    payload_hash="x",
                    event_type="custom",
                    event_name=rng.choice(NAMES),
                    user_id=user,
                    listing_id=rng.choice((*LISTINGS, None)),
                    timestamp=at,
                    received_at=at,
                    device_type=rng.choice(("mobile", "desktop", "", "unknown")),  # ("" is "unknown" too)
                    source="simulator",
                )
            )
    UserEvent.objects.bulk_create(events)
    stored = UserEvent.objects.filter(timestamp__gte=origin, timestamp__lt=origin + timedelta(days=90)).order_by("id")
    ReplicaPending.mark(list(stored.values_list("id", flat=True)))
    assert replication_run().pending == 0
    return [Row(e.id, e.user_id, e.listing_id, e.event_name, e.timestamp, e.device_type or "unknown") for e in stored]


def random_spec(rng: random.Random, origin: datetime) -> FunnelSpec:
    start = origin + timedelta(days=rng.randint(0, 10))
    return FunnelSpec(
        steps=tuple(rng.choice(NAMES) for _ in range(rng.randint(2, 4))),  # repeats allowed
        start=start,
        end=start + timedelta(days=rng.randint(1, 15)),
        window_days=rng.randint(1, 10),
        by_listing=rng.random() < 0.5,
        skip_payment_for_free=rng.random() < 0.7,
        breakdown=rng.choice((None, "platform")),
    )


SEEDS = 30


def test_the_engine_equals_brute_force(platform: None, settings: Any, chdb_dir: Path) -> None:
    """Per seed: random journeys, six random funnels, the engine's entrants and best paths (per user and per
    breakdown value and user: steps, microsecond times, entry) equal the brute force's, and so do the series
    it counts itself (per-step counts and medians) and the brute force's paths tallied. Across the seeds the
    funnels are not trivial: paths reach 2, 3 and 4 steps, some skip a free payment, some break down. One more
    seed's months straddle 1970 (history as old as a century-long retention keeps): times before it are negative
    microseconds, which the journeys' sort key must still order first."""
    client, layout = on_engine(settings, chdb_dir)
    reached: set[int] = set()
    skips = breakdowns = even_medians = 0  # even: a median is the mean of the two middle values
    origins = [ERA + timedelta(days=90 * seed) for seed in range(SEEDS)]  # each seed its own months
    origins.append(datetime(1969, 12, 20, tzinfo=UTC))  # journeys from before 1970 into it
    for seed, origin in enumerate(origins):
        rng = random.Random(seed)
        rows = random_journeys(rng, origin, seed)
        try:
            for _ in range(6):
                spec = random_spec(rng, origin)
                entrants, entrants_by, expected = reference(rows, spec)
                found = funnel_paths_clickhouse(spec, client, layout)
                paths = {(p.user_id, p.breakdown_value): (p.reached, p.times, p.entry_id) for p in found.paths}
                assert (found.entrants, found.entrants_by) == (entrants, entrants_by), (seed, spec)
                assert paths == expected, (seed, spec)
                assert served(found) == served(funnel_paths(spec)), (seed, spec)  # and the SQL engine's
                # The series the API serves, counted in the engine, equal the brute force's paths tallied.
                best = [EntrantPath(user, value, *path) for (user, value), path in expected.items()]
                tallied = tally_found(FunnelPaths(entrants, entrants_by, best), len(spec.steps))
                assert funnel_tallies_clickhouse(spec, client, layout) == tallied, (seed, spec)
                timed = [sum(len(p.times) > k and p.times[k] is not None for p in best) for k in range(1, 4)]
                even_medians += sum(count > 0 and count % 2 == 0 for count in timed)
                reached |= {path[0] for path in expected.values()}
                skips += sum(None in path[1] for path in expected.values())
                breakdowns += sum(value is not None for _, value in expected)
        finally:  # the seed's months hold its events alone: dropped at once (a DELETE would rewrite parts)
            for month in sorted({r.ts.year * 100 + r.ts.month for r in rows}):
                client.command(f"ALTER TABLE {layout.events} DROP PARTITION {int(month)}")
            UserEvent.objects.filter(timestamp__gte=origin, timestamp__lt=origin + timedelta(days=90)).delete()
            EventListing.objects.filter(listing_id__in=LISTINGS).delete()
    assert reached == {2, 3, 4} and skips > 0 and breakdowns > 0 and even_medians > 0
