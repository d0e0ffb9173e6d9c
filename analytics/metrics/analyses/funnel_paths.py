"""The funnel engine: each entrant's furthest ordered path, computed in one SQL statement.

Semantics (docs/metrics.md, `overall_conversion_rate`, and analytics/metrics/analyses/funnels.py):
from an entry — a first-step event in the range — each later step is the *earliest* event of that
step at or after the previous step (taking the earliest is optimal: if any ordered path exists, this
one does); step k is reached when it happened at most `window_days` after the entry. A step with the
same name as the step before it on the path (past a skipped payment, for a free listing) is the next
*other* event of that name: strictly after the previous one in (time, id) order, so `page_view →
page_view` needs two page views. Events at one instant count as in order; so with a name repeated
further apart (`event_viewed → search_performed → event_viewed`), a view and a search at one instant
can fill all three steps. A step named
`payment_completed` is skipped for a free listing (price 0) in a funnel that follows one listing:
it counts as reached and has no time of its own. Per user the path that gets furthest wins (ties: the
earliest entry); with a breakdown, also per (breakdown value, user).

How the SQL gets there without a per-entry search: within a journey (a user, and the listing when
the funnel follows one), the greedy path that starts at a step-k event is monotone in its start time —
a later start can only reach each later step later (or not at all). So the path of the *first* step
k+1 event at or after a row is the component-wise minimum of the paths of all step k+1 events at or
after it: one running `MIN(...) OVER (PARTITION BY journey ORDER BY timestamp DESC)` per step and
component, built backwards from the last step. The statement reads only journeys that have at least
one later-step event (plus free journeys when step 2 is a skipped payment): the other entrants reach
step 1 only and are counted from the entries alone.

Works on PostgreSQL and SQLite (3.35+: window functions, MATERIALIZED common table expressions).
The statement's shape is generated (step indices, column names, a validated whole number of days);
every value — event names, times, listing ids — is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection

from analytics.metrics.analyses import median
from analytics.metrics.analysis_session import analysis_session

# The marketplace funnel (docs/design.md, "Definitions"): the default of `POST /funnels` and the definition of
# `overall_conversion_rate`.
DEFAULT_STEPS = ("event_viewed", "event_requested", "payment_completed", "event_checked_in")
DEFAULT_WINDOW_DAYS = 14
PAYMENT_STEP = "payment_completed"
UNKNOWN = "unknown"
EVENTS = "analytics_user_event"
LISTINGS = "analytics_event_listing"


@dataclass(frozen=True)
class FunnelSpec:
    """What the engine needs: validated by `FunnelQuery` (analytics/metrics/analyses/funnels.py)."""

    steps: tuple[str, ...]
    start: datetime  # entries in [start, end), UTC
    end: datetime
    window_days: int
    by_listing: bool  # follow one listing (journey = user × listing) or the user (journey = user)
    skip_payment_for_free: bool
    breakdown: str | None  # platform | city (of the entry event) | category | host (of the listing)
    listing_ids: tuple[str, ...] | None = None  # scope to these listings (a host's own)
    user_ids: tuple[str, ...] | None = None  # scope to these users (a partial rebuild of the funnel reach)
    # Every entry that got past step 1, not only each user's best, and no entrant counts (the funnel-reach
    # rollup picks the best per business day itself).
    all_entries: bool = False


class EntrantPath(NamedTuple):
    """One user's best path (reached ≥ 2): times[k] is when step k+1 happened, None when skipped. A named
    tuple: a funnel at scale builds hundreds of thousands of them, and a frozen dataclass took a third of
    the engine's Python time to construct them (docs/benchmarks.md)."""

    user_id: str
    breakdown_value: str | None  # None: the overall best path; else the best path through this value
    reached: int
    times: tuple[datetime | None, ...]
    entry_id: int = 0  # the first-step event's id (ties between entries at the same instant)


@dataclass(frozen=True)
class FunnelPaths:
    entrants: int
    entrants_by: dict[str, int]
    paths: list[EntrantPath]  # overall best paths, then per breakdown value (when a breakdown is set)


class FunnelTally(NamedTuple):
    """What a funnel series is computed from: entrants, how many got past each step, and the medians of the
    seconds each step took (from the previous step with a time, and from the entry; None without values).
    Index k is step k+1; index 0 (the first step) has entrants and no medians."""

    entrants: int
    counts: tuple[int, ...]  # counts[0] = entrants; counts[k] = paths that reached step k+1
    from_previous: tuple[float | None, ...]
    from_start: tuple[float | None, ...]


@dataclass(frozen=True)
class FunnelTallies:
    overall: FunnelTally
    by_value: dict[str, FunnelTally]  # every breakdown value with an entrant


def tally_paths(paths: Sequence[EntrantPath], entrants: int, steps: int) -> FunnelTally:
    """A series' tally from its best paths (hundreds of thousands at scale: one pass): how many stopped at
    each step, and the seconds from the previous step that has a time (a skipped payment has none) and from
    the entry."""
    stopped_at = [0] * (steps + 1)
    gaps: list[list[float]] = [[] for _ in range(steps)]
    totals: list[list[float]] = [[] for _ in range(steps)]
    for p in paths:
        stopped_at[p.reached] += 1
        times = p.times
        entry = previous = times[0]
        for k in range(1, p.reached):
            at = times[k]
            if at is None:  # a skipped payment (no time of its own)
                continue
            gaps[k].append((at - previous).total_seconds())  # type: ignore[operator]
            totals[k].append((at - entry).total_seconds())  # type: ignore[operator]
            previous = at
    counts = (entrants, *(sum(stopped_at[k + 1 :]) for k in range(1, steps)))
    return FunnelTally(
        entrants,
        counts,
        tuple(median(gaps[k]) if k else None for k in range(steps)),
        tuple(median(totals[k]) if k else None for k in range(steps)),
    )


def tally_found(found: FunnelPaths, steps: int) -> FunnelTallies:
    """The tallies of `funnel_paths`' answer: the overall series and one per breakdown value."""
    by_value: dict[str, list[EntrantPath]] = {value: [] for value in found.entrants_by}
    overall = []
    for path in found.paths:
        if path.breakdown_value is None:
            overall.append(path)
        elif path.breakdown_value in by_value:  # (every path's value has entrants)
            by_value[path.breakdown_value].append(path)
    return FunnelTallies(
        overall=tally_paths(overall, found.entrants, steps),
        by_value={v: tally_paths(paths, found.entrants_by[v], steps) for v, paths in by_value.items()},
    )


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _py_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)  # SQLite: naive UTC text


def _deadline(column: str, days: int) -> str:
    """SQL for `column` + `days` days (no parameters: `days` is a validated int)."""
    if connection.vendor == "sqlite":
        # datetime() drops the fraction of a second; adding whole days never changes it.
        return f"(datetime({column}, '+{int(days)} days') || substr({column}, 20))"
    return f"({column} + INTERVAL '{int(days)} days')"


class _Sql:
    """Collects SQL fragments and their parameters in order."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def p(self, value: Any) -> str:
        self.params.append(value)
        return "%s"

    def many(self, values: Sequence[Any]) -> str:
        return ", ".join(self.p(v) for v in values)


def _dim_sql(spec: FunnelSpec, row: str, listing: str) -> str:
    if spec.breakdown in ("platform", "city"):
        column = "device_type" if spec.breakdown == "platform" else "city"
        return f"COALESCE(NULLIF({row}.{column}, ''), '{UNKNOWN}')"
    if spec.breakdown == "category":
        return f"COALESCE(NULLIF({listing}.category, ''), '{UNKNOWN}')"
    if spec.breakdown == "host":
        return f"COALESCE(NULLIF({listing}.host_id, ''), '{UNKNOWN}')"
    return "NULL"


def _bytewise(column: str) -> str:
    """Partition keys compared byte by byte: any order groups equal keys, and PostgreSQL's locale-aware
    comparison of text costs several times more when sorting hundreds of thousands of rows."""
    return f'{column} COLLATE "C"' if connection.vendor == "postgresql" else column


def _skipped(spec: FunnelSpec, j: int) -> bool:
    """Can step j (0-based) be skipped (a payment step of a free journey)?"""
    return spec.by_listing and spec.skip_payment_for_free and 0 < j < len(spec.steps) and spec.steps[j] == PAYMENT_STEP


def _next_step(spec: FunnelSpec, k: int) -> int | None:
    """The step after step k that is never skipped (None: only skipped steps follow)."""
    return next((m for m in range(k + 1, len(spec.steps)) if not _skipped(spec, m)), None)


def _window(spec: FunnelSpec, k: int, m: int) -> str:
    """The window that finds step m's event on from a step-k row: a step named like the step before it on
    the path is that name's *next* occurrence, strictly after in (time, id) — `page_view → page_view` is
    two page views — and any other step is at or after (events at one instant count as in order)."""
    return "ws" if spec.steps[m] == spec.steps[k] else "w"


def _layers(spec: FunnelSpec) -> list[str]:
    """CTEs L{n-1} … L0: column c{k}_{j} = when step j happens on the greedy path from a step-k row."""
    n = len(spec.steps)
    layers: list[str] = []
    previous = "rows_"
    for k in range(n - 1, -1, -1):
        columns = [f"CASE WHEN s{k} = 1 THEN ts END AS c{k}_{k}"]
        skippable = [m for m in range(k + 1, n) if _skipped(spec, m)]
        next_free = _next_step(spec, k)
        used: set[str] = set()
        for j in range(k + 1, n):
            used.add(_window(spec, k, k + 1))
            paid = f"MIN(CASE WHEN s{k + 1} = 1 THEN c{k + 1}_{j} END) OVER {_window(spec, k, k + 1)}"
            if not skippable or next_free == k + 1:
                expr = paid
            elif next_free is None or j < next_free:  # a skipped payment has no time
                expr = f"CASE WHEN free = 1 THEN NULL ELSE {paid} END"
            else:  # a free journey goes on from the next step that is not skipped
                used.add(_window(spec, k, next_free))
                skip = f"MIN(CASE WHEN s{next_free} = 1 THEN c{next_free}_{j} END) OVER {_window(spec, k, next_free)}"
                expr = f"CASE WHEN free = 1 THEN {skip} ELSE {paid} END"
            columns.append(f"CASE WHEN s{k} = 1 THEN {expr} END AS c{k}_{j}")
        partition = f"PARTITION BY {_bytewise('u')}, {_bytewise('k')}"
        orders = {"w": "ts DESC", "ws": "ts DESC, id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"}
        windows = ", ".join(f"{name} AS ({partition} ORDER BY {orders[name]})" for name in sorted(used))
        window = f" WINDOW {windows}" if windows else ""
        layers.append(f"L{k} AS (SELECT {previous}.*, {', '.join(columns)} FROM {previous}{window})")
        previous = f"L{k}"
    return layers


def _statement(spec: FunnelSpec) -> tuple[str, list[Any]]:
    n = len(spec.steps)
    sql = _Sql()
    first, later = spec.steps[0], sorted(set(spec.steps[1:]))
    key = "COALESCE(e.listing_id, '')" if spec.by_listing else "''"
    with_listing = " AND e.listing_id IS NOT NULL" if spec.by_listing else ""
    listing_join = (
        f" LEFT JOIN {LISTINGS} l ON l.listing_id = e.listing_id" if spec.breakdown in ("category", "host") else ""
    )
    start, end = _db_time(spec.start), _db_time(spec.end)
    horizon = _db_time(spec.end + timedelta(days=spec.window_days))

    def scope() -> str:
        text = ""
        if spec.listing_ids is not None:
            text += f" AND e.listing_id IN ({sql.many(spec.listing_ids)})" if spec.listing_ids else " AND 1 = 0"
        if spec.user_ids is not None:
            text += f" AND e.user_id IN ({sql.many(spec.user_ids)})" if spec.user_ids else " AND 1 = 0"
        return text

    def firsts_where(*, listing_only: bool) -> str:
        """First-step events of identified users in the range (optionally only those with a listing)."""
        only = with_listing if listing_only else ""
        return (
            f"e.event_name = {sql.p(first)} AND e.user_id IS NOT NULL "
            f"AND e.timestamp >= {sql.p(start)} AND e.timestamp < {sql.p(end)}{only}{scope()}"
        )

    ctes: list[str] = []
    # The later-step events, up to the window after the range (index `ue_name_time`, covering).
    if later:
        ctes.append(
            f"later AS MATERIALIZED (SELECT e.id, e.user_id AS u, {key} AS k, e.event_name AS n, e.timestamp AS ts "
            f"FROM {EVENTS} e WHERE e.event_name IN ({sql.many(later)}) AND e.user_id IS NOT NULL "
            f"AND e.timestamp >= {sql.p(start)} AND e.timestamp < {sql.p(horizon)}{with_listing}{scope()})"
        )
    else:
        ctes.append(
            f"later AS MATERIALIZED (SELECT e.id, e.user_id AS u, {key} AS k, '' AS n, e.timestamp AS ts "
            f"FROM {EVENTS} e WHERE 1 = 0)"
        )
    # Journeys that can get past step 1: those with a later-step event (and, when step 2 is a skipped
    # payment, every free journey). Only their first-step events are read as entries; every other
    # entrant reaches step 1 only and is counted from the first-step events alone.
    is_free = f"EXISTS (SELECT 1 FROM {LISTINGS} fl WHERE fl.listing_id = {{k}} AND fl.price = 0)"
    journeys = "SELECT DISTINCT u, k FROM later"
    if _skipped(spec, 1):
        journeys += (
            f" UNION SELECT e.user_id, {key} FROM {EVENTS} e WHERE {firsts_where(listing_only=True)} "
            f"AND {is_free.format(k='e.listing_id')}"
        )
    free = f"CASE WHEN {is_free.format(k='j.k')} THEN 1 ELSE 0 END" if spec.by_listing else "0"
    ctes.append(f"jf AS MATERIALIZED (SELECT j.u, j.k, {free} AS free FROM ({journeys}) j)")
    # Parameters are collected in the order the text is built: build each part in reading order.
    entry_flags = ", ".join(f"{int(name == first)} AS s{i}" for i, name in enumerate(spec.steps))
    entry_rows = (
        f"SELECT e.id, e.user_id AS u, {key} AS k, e.timestamp AS ts, {_dim_sql(spec, 'e', 'l')} AS dim, "
        f"jf.free, 1 AS entry, {entry_flags} FROM {EVENTS} e{listing_join} "
        f"JOIN jf ON jf.u = e.user_id AND jf.k = {key} WHERE {firsts_where(listing_only=True)}"
    )
    later_flags = ", ".join(
        f"CASE WHEN x.n = {sql.p(name)} THEN 1 ELSE 0 END AS s{i}" for i, name in enumerate(spec.steps)
    )
    # A first-step event in the range that is also a later step is already there as an entry row.
    repeat = f" WHERE NOT (x.n = {sql.p(first)} AND x.ts < {sql.p(end)})" if first in later else ""
    ctes.append(
        f"rows_ AS ({entry_rows} UNION ALL SELECT x.id, x.u, x.k, x.ts, NULL AS dim, jf.free, 0 AS entry, "
        f"{later_flags} FROM later x JOIN jf ON jf.u = x.u AND jf.k = x.k{repeat})"
    )
    ctes += _layers(spec)
    deadline = _deadline("ts", spec.window_days)
    fails = []
    for j in range(1, n):
        fail = f"(c0_{j} IS NULL OR c0_{j} > {deadline})"
        fails.append(f"WHEN {'(free = 0 AND ' + fail + ')' if _skipped(spec, j) else fail} THEN {j}")
    reached = f"CASE {' '.join(fails)} ELSE {n} END" if fails else "1"
    times = "".join(f", c0_{j}" for j in range(1, n))
    ctes.append(f"entries AS (SELECT id, u, dim, ts, free, {reached} AS reached{times} FROM L0 WHERE entry = 1)")
    u = _bytewise("u")
    by_dim = f"ROW_NUMBER() OVER (PARTITION BY dim, {u} ORDER BY reached DESC, ts, id)" if spec.breakdown else "0"
    ctes.append(
        f"ranked AS (SELECT entries.*, ROW_NUMBER() OVER (PARTITION BY {u} ORDER BY reached DESC, ts, id) AS best, "
        f"{by_dim} AS best_dim FROM entries)"
    )
    # The paths come first: their columns give the UNION its types (PostgreSQL reads NULLs as text).
    if spec.all_entries:
        return (
            "WITH " + ", ".join(ctes) + f" SELECT 'p' AS kind, dim, 0 AS cnt, 0 AS best, 0 AS best_dim, u, reached, "
            f"free, id, ts{times} FROM entries WHERE reached >= 2",
            sql.params,
        )
    selects = [
        f"SELECT 'p' AS kind, dim, 0 AS cnt, best, best_dim, u, reached, free, id, ts{times} FROM ranked "
        "WHERE reached >= 2 AND (best = 1 OR best_dim = 1)"
    ]
    blanks = "".join(", NULL" for _ in range(1, n))
    # Entrants: identified users with a first-step event in the range, with or without a listing. COUNT(*)
    # over a GROUP BY lets PostgreSQL hash the users instead of sorting them (COUNT DISTINCT sorts).
    selects.append(
        f"SELECT 'e', NULL, COUNT(*), 0, 0, NULL, 0, 0, 0, NULL{blanks} FROM (SELECT e.user_id FROM {EVENTS} e "
        f"WHERE {firsts_where(listing_only=False)} GROUP BY e.user_id) g"
    )
    if spec.breakdown:
        selects.append(
            f"SELECT 'b', dim, COUNT(*), 0, 0, NULL, 0, 0, 0, NULL{blanks} FROM "
            f"(SELECT {_dim_sql(spec, 'e', 'l')} AS dim, e.user_id FROM {EVENTS} e{listing_join} "
            f"WHERE {firsts_where(listing_only=True)} GROUP BY 1, 2) g GROUP BY dim"
        )
    return "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects), sql.params


def funnel_paths(spec: FunnelSpec) -> FunnelPaths:
    """Entrants (overall and per breakdown value) and each entrant's best paths that got past step 1."""
    statement, params = _statement(spec)
    with analysis_session(hash_joins=True), connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    entrants = 0
    entrants_by: dict[str, int] = {}
    paths: list[EntrantPath] = []
    for kind, dim, count, best, best_dim, user, reached, free, entry_id, entry, *later in rows:
        if kind == "e":
            entrants = int(count or 0)
        elif kind == "b":
            entrants_by[str(dim)] = int(count)
        else:
            times = [_py_time(entry)] + [
                None if free and _skipped(spec, j) else _py_time(later[j - 1]) for j in range(1, int(reached))
            ]
            if best == 1 or spec.all_entries:
                paths.append(EntrantPath(str(user), None, int(reached), tuple(times), int(entry_id)))
            if best_dim == 1:
                paths.append(EntrantPath(str(user), str(dim), int(reached), tuple(times), int(entry_id)))
    return FunnelPaths(entrants=entrants, entrants_by=entrants_by, paths=paths)
