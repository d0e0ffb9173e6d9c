"""Funnels on the analytics engine: the same `FunnelPaths` as `analyses.funnel_paths.funnel_paths`, read from
the replicated events, so that `funnel_run` gives the identical `FunnelResult` (`computed_from` =
"clickhouse").

The semantics are the SQL engine's (read `funnel_paths`' docstring): entries are first-step events in the
range; from an entry each later step is the earliest event of that step at or after the previous one on
the path — the next *other* event of the name, strictly after in (time, id) order, when the step is named
like the previous step on the path; a step is reached when it happened at most `window_days` after the
entry; a `payment_completed` step is skipped for a free listing in a funnel that follows one listing; per
user (and per breakdown value and user) the path that gets furthest wins, ties to the earliest entry
(time, then id).

How ClickHouse gets there, one row per journey (a user, and the listing when the funnel follows one):
the journey's events become arrays sorted by (time, event id), and the greedy path is built backwards,
one layer per step, exactly as the SQL engine's running minima do — with array fills instead of window
frames. `T{k}_{j}[i]` is when step j happens on the greedy path that starts at position i acting as step
k (meaningful where the event at i is named like step k; `NONE` — never — elsewhere or when not found).
The path from a step-k event goes on with the *first* step-(k+1) event at or after it, so
`T{k}_{j}` is `T{k+1}_{j}` read at the next step-(k+1) position:

- `arrayReverseFill` carries each step-(k+1) value leftwards: at i, the value of the nearest step-(k+1)
  event at or after position i (sorted by (time, id), "nearest position" is "earliest");
- strictly after (a repeated name): the same read one position further right (`arrayPopFront`);
- at or after in time (any other step): the value at the first position of i's instant (`arrayFill`
  over the instants' first positions), so events at one instant count as in order whatever their ids.

A free journey (its listing's price is 0) jumps over a skipped payment step: from step k it goes on with
the next step that is not skipped. Times travel as integer microseconds (`toUnixTimestamp64Micro`), so
the paths' times come back microsecond-exact; "never" is the largest Int64, later than every deadline.
The entries' layer-0 values give the reached step and the times; `argMin` picks each user's best entry.

What the API serves (`funnel_tallies_clickhouse`) is counted in the engine too: per series (overall, and per
breakdown value) how many best paths got past each step, and per step the lower and upper middle values
(`quantileExactLow`/`High`) of the microseconds from the previous step with a time and from the entry — one
row per series leaves the engine, and `_median` turns the middle values into the float `analyses.median`
gives for the same seconds. `funnel_paths_clickhouse` returns the paths themselves (for the funnel-reach
rollup's question and for the tests that hold the engine against the brute force).

Listing facts (free, category, host — as they are now) live only in the system of record: they are read
there (`EventListing`) for the listings that have an entry in the range, and passed in as array
parameters. Every value — step names, times, listing and user ids — is a server-side parameter; the only
text generated is the statement's shape (step indices, array names, a whole number of microseconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.metrics.analyses.funnel_paths import (
    PAYMENT_STEP,
    EntrantPath,
    FunnelPaths,
    FunnelSpec,
    FunnelTallies,
    FunnelTally,
)
from analytics.metrics.clickhouse.client import ClickHouse, rows
from analytics.metrics.clickhouse.expressions import Params, label
from analytics.metrics.clickhouse.schema import Layout
from analytics.models import EventListing

NONE = "toInt64(9223372036854775807)"  # "never": later than every deadline
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS_PER_DAY = 86_400_000_000
_CHUNK = 2_000  # listing ids per system-of-record read


@dataclass(frozen=True)
class _Facts:
    """What the system of record knows of the entered listings, as they are now."""

    free: list[str]
    ids: list[str]
    values: list[str]  # category or host of `ids[i]` ("" when empty)


def _skipped(spec: FunnelSpec, j: int) -> bool:
    """Can step j (0-based) be skipped (a payment step of a free journey)?"""
    return spec.by_listing and spec.skip_payment_for_free and j > 0 and spec.steps[j] == PAYMENT_STEP


def _next_step(spec: FunnelSpec, k: int) -> int | None:
    """The step after step k that is never skipped (None: only skipped steps follow)."""
    return next((m for m in range(k + 1, len(spec.steps)) if not _skipped(spec, m)), None)


class _Statement:
    """The parts every statement shares: the source, the scope, the entry conditions."""

    def __init__(self, spec: FunnelSpec, layout: Layout, params: Params) -> None:
        self.source = f"{layout.events} FINAL"
        self.first = params.add(spec.steps[0], "String")
        self.start = params.instant(spec.start)
        self.end = params.instant(spec.end)
        scope = ""
        if spec.listing_ids is not None:  # a host's own listings ([]: none)
            listings = params.add(list(spec.listing_ids), "Array(String)") if spec.listing_ids else ""
            scope += f" AND listing_id IS NOT NULL AND has({listings}, listing_id)" if listings else " AND 0"
        if spec.user_ids is not None:
            users = params.add(list(spec.user_ids), "Array(String)") if spec.user_ids else ""
            scope += f" AND has({users}, user_id)" if users else " AND 0"
        self.scope = scope
        self.with_listing = " AND listing_id IS NOT NULL" if spec.by_listing else ""

    def firsts(self, *, listing_only: bool) -> str:
        """First-step events of identified users in the range (optionally only those with a listing)."""
        only = self.with_listing if listing_only else ""
        return (
            f"event_name = {self.first} AND user_id IS NOT NULL AND timestamp >= {self.start} "
            f"AND timestamp < {self.end}{only}{self.scope}"
        )


def _wants_facts(spec: FunnelSpec) -> bool:
    return any(_skipped(spec, j) for j in range(1, len(spec.steps))) or spec.breakdown in ("category", "host")


def _entered(spec: FunnelSpec, client: ClickHouse, layout: Layout) -> tuple[int, list[str]]:
    """One read of the range's first-step events: how many identified users entered, and — when the funnel
    needs listing facts — the listings they entered through."""
    params = Params()
    part = _Statement(spec, layout, params)
    listings = ", arraySort(groupUniqArrayIf(assumeNotNull(listing_id), listing_id IS NOT NULL))"
    sql = (
        f"SELECT uniqExact(user_id){listings if _wants_facts(spec) else ''} "  # noqa: S608
        f"FROM {part.source} WHERE {part.firsts(listing_only=False)}"
    )
    found = rows(client, sql, params)[0]
    return int(found[0]), [str(listing) for listing in found[1]] if len(found) > 1 else []


def _facts(spec: FunnelSpec, entered: list[str]) -> _Facts | None:
    """The listing facts the funnel needs (None: none), for the listings of the range's entries."""
    if not _wants_facts(spec):
        return None
    wants_free = any(_skipped(spec, j) for j in range(1, len(spec.steps)))
    wants_dim = spec.breakdown in ("category", "host")
    free: list[str] = []
    ids: list[str] = []
    values: list[str] = []
    for start in range(0, len(entered), _CHUNK):
        found = EventListing.objects.filter(listing_id__in=entered[start : start + _CHUNK]).values_list(
            "listing_id", "price", "category", "host_id"
        )
        for listing_id, price, category, host_id in found:
            if wants_free and price is not None and price == 0:
                free.append(listing_id)
            if wants_dim:
                value = category if spec.breakdown == "category" else host_id
                if value:
                    ids.append(listing_id)
                    values.append(value)
    return _Facts(free=free, ids=ids, values=values)


def _stored(spec: FunnelSpec) -> str:
    """The column a platform or city breakdown reads ("" for any other breakdown, or none)."""
    return {"platform": "device_type", "city": "city"}.get(spec.breakdown or "", "")


def _dim(spec: FunnelSpec, params: Params, facts: _Facts | None) -> str:
    """The breakdown value of an event (used for entries): its platform or city, or its listing's category
    or host; "unknown" when empty."""
    if _stored(spec):
        return label(_stored(spec))
    if spec.breakdown in ("category", "host"):
        assert facts is not None
        ids = params.add(facts.ids, "Array(String)")
        values = params.add(facts.values, "Array(String)")
        return label(f"transform(ifNull(listing_id, ''), {ids}, {values}, '')")
    return "''"


def _layers(spec: FunnelSpec) -> list[str]:
    """The per-journey arrays, in dependency order: `m{k}` (is the event named like step k), `T{k}_{j}`."""
    n = len(spec.steps)
    exprs = [f"arrayMap(_f -> bitTest(_f, {1 + k}), flags) AS m{k}" for k in range(n)]

    def read(k: int, m: int, j: int) -> str:
        """`T{m}_{j}` read from a step-k position: at the first step-m event strictly after it (a name
        repeated from step k) or at or after its instant (any other name)."""
        nearest = f"arrayReverseFill((_v, _h) -> _h, T{m}_{j}, m{m})"
        if spec.steps[m] == spec.steps[k]:
            return f"arrayPushBack(arrayPopFront({nearest}), {NONE})"
        return f"arrayFill((_v, _s) -> _s, {nearest}, instant_starts)"

    for k in range(n - 1, -1, -1):
        exprs.append(f"arrayMap((_t, _h) -> if(_h, _t, {NONE}), ts, m{k}) AS T{k}_{k}")
        skippable = any(_skipped(spec, m) for m in range(k + 1, n))
        next_free = _next_step(spec, k)
        for j in range(k + 1, n):
            paid = read(k, k + 1, j)
            if not skippable or next_free == k + 1:
                value = paid
            elif next_free is None or j < next_free:  # a skipped payment has no time of its own
                value = f"if(free, arrayMap(_t -> {NONE}, ts), {paid})"
            else:  # a free journey goes on from the next step that is not skipped
                value = f"if(free, {read(k, next_free, j)}, {paid})"
            # Only positions named like step k carry a value: the layer before reads them alone.
            exprs.append(f"arrayMap((_t, _h) -> if(_h, _t, {NONE}), {value}, m{k}) AS T{k}_{j}")
    return exprs


def _per_journey_sql(spec: FunnelSpec, layout: Layout, params: Params, facts: _Facts | None) -> str:
    """One row per journey with an entry: `u, free`, and per entry (arrays in (time, id) order) `e_ts`,
    `e_id`, `e_dim` and `e_1 … e_{n-1}` — when each later step happens on the greedy path from it."""
    n = len(spec.steps)
    part = _Statement(spec, layout, params)
    names = params.add(sorted(set(spec.steps)), "Array(String)")
    bits = " + ".join(
        f"toUInt16(event_name = {params.add(name, 'String')}) * {1 << i}" for i, name in enumerate(spec.steps)
    )
    horizon = params.instant(spec.end + timedelta(days=spec.window_days))
    key = "ifNull(listing_id, '')" if spec.by_listing else "''"
    free, free_event = "0", "0"  # is the journey's (the event's) listing free
    if facts is not None and any(_skipped(spec, j) for j in range(1, n)):
        free_ids = params.add(facts.free, "Array(String)")
        free, free_event = f"has({free_ids}, k)", f"has({free_ids}, {key})"
    dim = _dim(spec, params, facts)
    # The events that can be on a path: identified, of a step's name, from the range's start up to the
    # window after its end; an entry is a first-step event in the range.
    window = (
        f"user_id IS NOT NULL AND timestamp >= {part.start} AND timestamp < {horizon}{part.with_listing}{part.scope}"
    )
    # Only a journey with an event of a later step can get past its first step — or a free one when step 2
    # is a payment, which it skips (counted as reached). When the first step's name comes again later,
    # every journey with an entry has such an event (the entry itself): no filter. Per listing, most journeys
    # are one look at one listing: leaving them out before the grouping (`IN` against the later steps'
    # journeys) halves the statement at millions of events. Per person, almost everyone who enters goes on,
    # and that `IN` cost a third of the statement (docs/benchmarks.md): the grouped journey is checked
    # instead — an event of a later step has a bit other than step 1's (`max(b) >= 2`).
    going_on, goes_on = "1", ""
    if spec.steps[0] in spec.steps[1:]:
        pass
    elif not spec.by_listing:
        goes_on = " AND max(b) >= 2"
    else:
        later = params.add(sorted(set(spec.steps[1:])), "Array(String)")
        # (A hash of the journey, not its two texts: a set of integers is faster to build and probe, and a
        # collision only lets an extra journey through, which then reaches step 1 alone and is dropped.)
        going_on = (
            f"cityHash64(assumeNotNull(user_id), {key}) IN (SELECT cityHash64(assumeNotNull(user_id), {key}) "  # noqa: S608
            f"FROM {part.source} WHERE event_name IN {later} AND {window})"
        )
        if free_event != "0" and _skipped(spec, 1):  # (a later skipped step needs step 2's event all the same)
            going_on = f"({going_on} OR {free_event})"
    # (Without a breakdown every value is ''. A platform or city travels as the stored column and is labelled
    # at the entries alone: no text built for every event.)
    carried = f", {_stored(spec) or dim} AS d" if spec.breakdown else ""
    events = (
        f"SELECT assumeNotNull(user_id) AS u, {key} AS k, toUnixTimestamp64Micro(timestamp) AS t, "  # noqa: S608
        f"event_id AS id, toUInt16({bits}) AS b, "
        f"toUInt8(event_name = {part.first} AND timestamp < {part.end}) AS entry{carried} "
        f"FROM {part.source} WHERE event_name IN {names} AND {window} AND {going_on}"
    )
    # One row per journey with an entry, its events as arrays sorted by (time, id). An array of tuples is
    # slow to gather (half of the statement at millions of events), so each event travels as two numbers:
    # a 128-bit sort key — the time (its sign bit flipped: unsigned order is then time order) above the id
    # — and its step bits with the entry flag below them; the breakdown value, when there is one, beside.
    flip = "9223372036854775808"  # 2⁶³
    sort_key = f"bitOr(bitShiftLeft(toUInt128(bitXor(toUInt64(t), {flip})), 64), toUInt128(id))"
    dims = ", groupArray(d) AS _dims" if spec.breakdown else ""
    journeys = (
        f"SELECT u, k, {free} AS free, groupArray({sort_key}) AS _keys, "  # noqa: S608
        f"groupArray(toUInt16(b * 2 + entry)) AS _flags{dims} FROM ({events}) "
        f"GROUP BY u, k HAVING max(entry) = 1{goes_on}"
    )
    arrays = [
        "arraySort(_keys) AS _sorted",
        f"arrayMap(_k -> toInt64(bitXor(toUInt64(bitShiftRight(_k, 64)), {flip})), _sorted) AS ts",
        "arrayMap(_k -> toUInt64(bitAnd(_k, toUInt128('18446744073709551615'))), _sorted) AS ids",
        "arraySort((_f, _k) -> _k, _flags, _keys) AS flags",  # (bit 0: an entry; bit 1 + k: named like step k)
        "arrayMap(_f -> bitTest(_f, 0), flags) AS entries",
        # (Without a breakdown every event's value is '': not carried through the arrays.)
        "arraySort((_d, _k) -> _k, _dims, _keys) AS dims" if spec.breakdown else "arrayMap(_k -> '', _keys) AS dims",
        # The first position of each instant (ties in time count as in order).
        "arrayMap((_d, _i) -> _i = 1 OR _d != 0, arrayDifference(ts), arrayEnumerate(ts)) AS instant_starts",
        *_layers(spec),
    ]
    # Only the entries' values leave the journey (the other arrays are not copied by the ARRAY JOIN).
    kept = {
        suffix: f"arrayFilter((_x, _e) -> _e, {name}, entries)"
        for name, suffix in [("ts", "ts"), ("ids", "id"), ("dims", "dim")] + [(f"T0_{j}", str(j)) for j in range(1, n)]
    }
    if _stored(spec):
        kept["dim"] = f"arrayMap(_x -> {label('_x')}, {kept['dim']})"
    at_entries = ", ".join(f"{value} AS e_{suffix}" for suffix, value in kept.items())
    return f"SELECT u, free, {at_entries} FROM (SELECT u, free, {', '.join(arrays)} FROM ({journeys}))"  # noqa: S608


def _reached(spec: FunnelSpec) -> str:
    """The step an entry reaches, from `entry_t`, `t1 … t{n-1}` and its journey's `free`."""
    n = len(spec.steps)
    window = f"toInt64({int(spec.window_days) * _MICROS_PER_DAY})"
    fails = []
    for j in range(1, n):
        fail = f"t{j} > entry_t + {window}"  # not found ("never") or after the window
        fails.append(f"{'NOT free AND ' + fail if _skipped(spec, j) else fail}, {j}")
    return f"toUInt8(multiIf({', '.join(fails)}, {n}))"


def _with_reached(spec: FunnelSpec, per_journey: str) -> str:
    """The journeys with an entry past step 1, and `_r`: the step each of their entries reaches (in order)."""
    n = len(spec.steps)
    names = ["entry_t", *(f"t{j}" for j in range(1, n))]
    reached = f"arrayMap(({', '.join(names)}) -> {_reached(spec)}, e_ts{''.join(f', e_{j}' for j in range(1, n))})"
    return f"SELECT *, {reached} AS _r FROM ({per_journey}) WHERE arrayMax(_r) >= 2"  # noqa: S608


def _entries_sql(spec: FunnelSpec, layout: Layout, params: Params, facts: _Facts | None) -> str:
    """Every entry that got past step 1: `u, dim, free, entry_t, entry_id, reached, t1 … t{n-1}` (times in
    microseconds; a step not reached, or a skipped payment, holds "never" or a meaningless value). Entries
    that stay at step 1 — most of them — are dropped inside their journey's arrays, before the ARRAY JOIN."""
    n = len(spec.steps)
    journeys = _with_reached(spec, _per_journey_sql(spec, layout, params, facts))
    arrays = ["ts", "id", "dim", *(str(j) for j in range(1, n))]
    kept = ", ".join(f"arrayFilter((_x, _k) -> _k >= 2, e_{name}, _r) AS f_{name}" for name in arrays)
    at_steps = [f"f_{j} AS t{j}" for j in range(1, n)]
    joined = ", ".join(["f_ts AS entry_t", "f_id AS entry_id", "f_dim AS dim", "f_r AS reached", *at_steps])
    times = "".join(f", t{j}" for j in range(1, n))
    return (
        f"SELECT u, dim, free, entry_t, entry_id, reached{times} FROM "  # noqa: S608
        f"(SELECT u, free, {kept}, arrayFilter(_k -> _k >= 2, _r) AS f_r FROM ({journeys})) ARRAY JOIN {joined}"
    )


def _journey_bests_sql(spec: FunnelSpec, layout: Layout, params: Params, facts: _Facts | None) -> str:
    """Each journey's best entry that got past step 1, as `u, part, value, _p` (`_p` as `_best` gives it):
    overall (`part` 0, `value` ''), and per breakdown value when there is one (`part` 1). Picked inside the
    journey's arrays — its entries are in (time, id) order, so the best is the first that reaches the
    furthest: one row per journey (and value) instead of one per entry (every page view, in a funnel that
    starts with one)."""
    n = len(spec.steps)
    journeys = _with_reached(spec, _per_journey_sql(spec, layout, params, facts))
    picked = "".join(f", e_{j}[_i]" for j in range(1, n))
    best = f"(_r[_i], free, e_id[_i], e_ts[_i]{picked}) AS _p"
    first_best = "arrayFirstIndex(_x -> _x = arrayMax(_r), _r)"
    if not spec.breakdown:
        return (
            f"SELECT u, toUInt8(0) AS part, '' AS value, {best} FROM "  # noqa: S608
            f"(SELECT *, {first_best} AS _i FROM ({journeys}))"
        )
    # Per value among the entries past step 1 (a platform or city is each entry's own): the first entry of
    # the value that reaches the furthest any of the value's entries reaches. The overall best rides along
    # as one more element: the journey's rows come out of one ARRAY JOIN (no array of tuples to gather).
    top = "arrayMax(arrayMap((_k, _x) -> if(_x = _v, _k, 0), _r, e_dim))"
    firsts = f"arrayMap(_v -> arrayFirstIndex((_k, _x) -> _x = _v AND _k = {top}, _r, e_dim), _vs)"
    return (
        f"SELECT u, part, value, {best} FROM (SELECT *, {firsts} AS _is FROM "  # noqa: S608
        f"(SELECT *, arrayDistinct(arrayFilter((_x, _k) -> _k >= 2, e_dim, _r)) AS _vs FROM ({journeys}))) "
        f"ARRAY JOIN arrayPushBack(arrayMap(_v -> toUInt8(1), _vs), toUInt8(0)) AS part, "
        f"arrayPushBack(_vs, '') AS value, arrayPushBack(_is, {first_best}) AS _i"
    )


def _paths_sql(spec: FunnelSpec, layout: Layout, params: Params, facts: _Facts | None) -> str:
    n = len(spec.steps)
    entries = _entries_sql(spec, layout, params, facts)
    times = "".join(f", t{j}" for j in range(1, n))
    if spec.all_entries:
        return f"SELECT u, dim, reached, free, entry_id, entry_t{times} FROM ({entries})"  # noqa: S608
    # Each (breakdown value, user)'s best entry — most steps, then the earliest (time, id); the overall best
    # per user is the best of these (picked in Python: one row per value and user leaves the engine).
    by = "dim, u" if spec.breakdown else "u"
    best = _best(spec)
    picked = ", ".join(f"best.{i + 1}" for i in range(4 + n - 1))
    value = "dim" if spec.breakdown else "''"
    return (
        f"SELECT u, {value}, {picked} FROM "  # noqa: S608
        f"(SELECT {by}, {best} AS best FROM ({entries}) GROUP BY {by})"
    )


_RANK = "(-toInt16(_p.1), _p.4, _p.3)"  # of a best-entry tuple `_p`: most steps, then the earliest (time, id)


def _best(spec: FunnelSpec) -> str:
    """A group's best entry as a tuple `(reached, free, entry_id, entry_t, t1 … t{n-1})`: most steps, then the
    earliest (time, id)."""
    times = "".join(f", t{j}" for j in range(1, len(spec.steps)))
    return f"argMin((reached, free, entry_id, entry_t{times}), (-toInt16(reached), entry_t, entry_id))"


def _tallies_sql(spec: FunnelSpec, layout: Layout, params: Params, facts: _Facts | None) -> str:
    """Per series — `(0, '')` overall, `(1, value)` per breakdown value — how many best paths got past each
    step, and per step the lower and upper middle values (exact) of the microseconds from the previous step
    with a time and from the entry, with how many there are: `_series`' inputs, without a row per user
    leaving the engine."""
    n = len(spec.steps)
    bests = _journey_bests_sql(spec, layout, params, facts)
    if spec.breakdown or spec.by_listing:  # a person's best (per value) is the best of their journeys'
        series = f"SELECT part, value, argMin(_p, {_RANK}) AS _p FROM ({bests}) GROUP BY part, value, u"  # noqa: S608
    else:  # one journey per person
        series = f"SELECT part, value, _p FROM ({bests})"  # noqa: S608
    columns = ["_p.1 AS reached", "_p.2 AS free", "_p.4 AS t0", *(f"_p.{4 + j} AS t{j}" for j in range(1, n))]
    measures = []
    previous = "t0"  # the latest step before step k with a time of its own
    for k in range(1, n):
        has_time = f"reached > {k}" + (" AND NOT free" if _skipped(spec, k) else "")
        for since in (previous, "t0"):
            value = f"t{k} - {since}"
            measures += [
                f"countIf({has_time})",
                f"quantileExactLowIf(0.5)({value}, {has_time})",
                f"quantileExactHighIf(0.5)({value}, {has_time})",
            ]
        previous = f"if(free, {previous}, t{k})" if _skipped(spec, k) else f"t{k}"
    past = ", ".join(f"countIf(reached > {k})" for k in range(1, n))
    return (
        f"SELECT part, value, {past}, {', '.join(measures)} FROM "  # noqa: S608
        f"(SELECT part, value, {', '.join(columns)} FROM ({series})) GROUP BY part, value"
    )


def _median(count: int, low: int, high: int) -> float | None:
    """`analyses.median` of microsecond values given as seconds, from their count and middle values: the
    same float (each value / 10⁶ is correctly rounded, as `timedelta.total_seconds()` is)."""
    if not count:
        return None
    return low / 1_000_000 if count % 2 else (low / 1_000_000 + high / 1_000_000) / 2


def _entrants(spec: FunnelSpec, client: ClickHouse, layout: Layout) -> tuple[int, dict[str, int], _Facts | None]:
    """Entrants overall and per breakdown value, and the listing facts the funnel needs. A platform or city is
    the entry event's own, so one read gives all three: per value, the users who entered through it (with a
    listing when the funnel follows one) and their set, whose merge is the overall count."""
    if spec.breakdown not in ("platform", "city"):  # a category or host needs the facts first
        entrants, entered = _entered(spec, client, layout)
        facts = _facts(spec, entered)
        return entrants, _entrants_by(spec, client, layout, facts), facts
    params = Params()
    part = _Statement(spec, layout, params)
    through = "listing_id IS NOT NULL" if spec.by_listing else "1"
    state, merged, relabelled = "", "", ""
    if _wants_facts(spec):
        state = ", groupUniqArrayIfState(assumeNotNull(listing_id), listing_id IS NOT NULL) AS l0"
        relabelled = ", groupUniqArrayIfMergeState(l0) AS l"
        merged = ", arraySort(groupUniqArrayIfMerge(l))"
    # Grouped by the stored column first (few values, no text built per event), then by its label ("" and
    # "unknown" are one value): the sets merge.
    raw = _stored(spec)
    sql = (
        f"SELECT groupArrayIf(dim, n > 0), groupArrayIf(n, n > 0), uniqExactMerge(s){merged} FROM "  # noqa: S608
        f"(SELECT {label('raw')} AS dim, uniqExactIfMerge(n0) AS n, uniqExactMergeState(s0) AS s{relabelled} FROM "
        f"(SELECT {raw} AS raw, uniqExactIfState(user_id, {through}) AS n0, uniqExactState(user_id) AS s0{state} "
        f"FROM {part.source} WHERE {part.firsts(listing_only=False)} GROUP BY raw) GROUP BY dim)"
    )
    # (Two arrays filled in one pass keep their order; an array of tuples would come back as Arrow structs.)
    values, counts, entrants, *entered = rows(client, sql, params)[0]
    facts = _facts(spec, [str(listing) for listing in entered[0]] if entered else [])
    return int(entrants), {str(value): int(count) for value, count in zip(values, counts, strict=True)}, facts


def _entrants_by(spec: FunnelSpec, client: ClickHouse, layout: Layout, facts: _Facts | None) -> dict[str, int]:
    """Per breakdown value, the identified users who entered through it (with a listing when the funnel
    follows one)."""
    if not spec.breakdown:
        return {}
    params = Params()
    part = _Statement(spec, layout, params)
    dim = _dim(spec, params, facts)
    sql = (
        f"SELECT {dim} AS dim, uniqExact(user_id) FROM {part.source} "  # noqa: S608
        f"WHERE {part.firsts(listing_only=True)} GROUP BY dim"
    )
    return {str(value): int(count) for value, count in rows(client, sql, params)}


class _PathMaker:
    """`EntrantPath`s from the statement's rows (hundreds of thousands at scale: the spec's questions are
    answered once, not per row)."""

    def __init__(self, spec: FunnelSpec) -> None:
        self.skippable = tuple(_skipped(spec, j) for j in range(len(spec.steps)))

    def __call__(self, user: str, value: str | None, row: Iterable[Any]) -> EntrantPath:
        reached, free, entry_id, entry, *later = row
        skippable = self.skippable
        times: list[datetime | None] = [_EPOCH + timedelta(microseconds=entry)]
        for j in range(1, int(reached)):
            times.append(None if free and skippable[j] else _EPOCH + timedelta(microseconds=later[j - 1]))
        return EntrantPath(str(user), value, int(reached), tuple(times), int(entry_id))


def funnel_paths_clickhouse(spec: FunnelSpec, client: ClickHouse, layout: Layout) -> FunnelPaths:
    """Entrants (overall and per breakdown value) and each entrant's best paths that got past step 1 —
    `funnel_paths(spec)`, answered by the analytics engine."""
    entrants_by: dict[str, int]
    if spec.all_entries:  # every entry's path, no entrant counts
        entrants, entrants_by = 0, {}
        facts = _facts(spec, _entered(spec, client, layout)[1]) if _wants_facts(spec) else None
    else:
        entrants, entrants_by, facts = _entrants(spec, client, layout)
    paths: list[EntrantPath] = []
    if len(spec.steps) < 2:  # one step: nobody gets past it
        return FunnelPaths(entrants=entrants, entrants_by=entrants_by, paths=paths)
    params = Params()
    found = rows(client, _paths_sql(spec, layout, params, facts), params)
    _path = _PathMaker(spec)
    if spec.all_entries:
        for user, _, *row in found:
            paths.append(_path(user, None, row))
        return FunnelPaths(entrants=0, entrants_by={}, paths=paths)
    best: dict[str, tuple[Any, ...]] = {}
    for user, value, *row in found:
        if spec.breakdown:
            paths.append(_path(user, str(value), row))
        reached, _, entry_id, entry, *_ = row
        held = best.get(user)
        if held is None or (-reached, entry, entry_id) < (-held[0], held[3], held[2]):
            best[user] = tuple(row)
    overall = [_path(user, None, row) for user, row in best.items()]
    return FunnelPaths(entrants=entrants, entrants_by=entrants_by, paths=overall + paths)


def funnel_tallies_clickhouse(spec: FunnelSpec, client: ClickHouse, layout: Layout) -> FunnelTallies:
    """The funnel's series — what `tally_found(funnel_paths(spec))` gives — counted by the analytics engine:
    one row per series leaves it, not one per user (`all_entries` is not a series: use the paths)."""
    if spec.all_entries:
        raise ValueError("all_entries asks for paths, not tallies")
    n = len(spec.steps)
    entrants, entrants_by, facts = _entrants(spec, client, layout)
    found: dict[tuple[int, str], list[Any]] = {}
    if n >= 2:  # one step: nobody gets past it
        params = Params()
        found = {
            (int(part), str(value)): row
            for part, value, *row in rows(client, _tallies_sql(spec, layout, params, facts), params)
        }

    def tally(entrants: int, row: list[Any] | None) -> FunnelTally:
        if row is None:
            row = [0] * (n - 1 + 6 * (n - 1))
        past, measures = row[: n - 1], row[n - 1 :]
        medians = [_median(*(int(v) for v in measures[i : i + 3])) for i in range(0, len(measures), 3)]
        return FunnelTally(
            entrants,
            (entrants, *(int(c) for c in past)),
            (None, *medians[0::2]),
            (None, *medians[1::2]),
        )

    return FunnelTallies(
        overall=tally(entrants, found.get((0, ""))),
        by_value={value: tally(count, found.get((1, value))) for value, count in entrants_by.items()},
    )
