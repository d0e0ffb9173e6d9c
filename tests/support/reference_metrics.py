"""An independent recomputation of five metric families from exported tracked events, with pandas.

Written from the definitions in docs/metrics.md only: nothing here imports `analytics.metrics`, and the
approach differs on purpose (whole-table pandas operations over the export, `merge_asof` for the
funnel) from the service's (daily rollups in SQL, a window-function funnel engine). A bug in either
shows up as a mismatch in tests/*/test_cross_check*.py.

Input: the JSON Lines of `GET /api/analytics/export/events`. Days are business days in Asia/Kolkata.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pandas as pd

ZONE = "Asia/Kolkata"
NOT_USER_INITIATED = ("api_request", "app_error")
WINDOW = pd.Timedelta(days=14)
REVENUE_SIGN = {"payment_completed": 1, "payment_refunded": -1, "payment_chargeback": -1}


def events_frame(jsonl: bytes) -> pd.DataFrame:
    """One row per exported tracked event, with `ts` (UTC) and `day` (business day)."""
    rows = [orjson.loads(line) for line in jsonl.splitlines() if line.strip()]
    frame = pd.DataFrame(rows)
    frame["ts"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["day"] = frame["ts"].dt.tz_convert(ZONE).dt.date
    return frame


@dataclass(frozen=True)
class Period:
    type: str
    start: date
    end: date  # inclusive


def periods(period_type: str, first: date, last: date) -> list[Period]:
    """Every period of `period_type` that overlaps first … last (weeks start on Monday)."""
    found: list[Period] = []
    day = first
    while day <= last:
        if period_type == "day":
            start, end = day, day
        elif period_type == "week":
            start = day - timedelta(days=day.weekday())
            end = start + timedelta(days=6)
        else:
            start = day.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if not found or found[-1].start != start:
            found.append(Period(period_type, start, end))
        day = end + timedelta(days=1)
    return found


def _in(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    return frame[(frame["day"] >= period.start) & (frame["day"] <= period.end)]


def _percent(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else 100.0 * numerator / denominator


def active(frame: pd.DataFrame) -> pd.DataFrame:
    """Identified users' user-initiated events."""
    return frame[frame["user_id"].notna() & ~frame["event_name"].isin(NOT_USER_INITIATED)]


def active_users(frame: pd.DataFrame, period: Period, by: str | None = None) -> dict[str, int]:
    rows = _in(active(frame), period)
    if by is None:
        return {"": int(rows["user_id"].nunique())}
    keys = rows[by].fillna("").replace("", "unknown")
    return {str(k): int(v) for k, v in rows.groupby(keys)["user_id"].nunique().items()}


def first_active_days(frame: pd.DataFrame) -> pd.Series:
    return active(frame).groupby("user_id")["day"].min()


def retention(frame: pd.DataFrame, period: Period, n: int, today: date) -> float | None:
    """Cohort days of the period whose day n is before today; retained = active on first day + n."""
    first = first_active_days(frame)
    activity = set(zip(active(frame)["user_id"], active(frame)["day"], strict=True))
    size = kept = 0
    day = period.start
    while day <= period.end and day + timedelta(days=n) < today:
        cohort = first[first == day].index
        size += len(cohort)
        kept += sum((user, day + timedelta(days=n)) in activity for user in cohort)
        day += timedelta(days=1)
    return _percent(kept, size)


def week_cohorts(frame: pd.DataFrame, first: date, last: date, intervals: int, today: date) -> dict[date, list]:
    """{cohort week start: [users active in week n of the cohort, or None while week n is not over]} for
    users whose first active day falls in the weeks of first … last (weeks start on Monday)."""

    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    firsts = first_active_days(frame)
    weeks_of = {user: monday(day) for user, day in firsts.items() if monday(first) <= monday(day) <= monday(last)}
    rows = active(frame)
    activity = {(user, monday(day)) for user, day in zip(rows["user_id"], rows["day"], strict=True)}
    table: dict[date, list] = {}
    for cohort in sorted(set(weeks_of.values())):
        members = [user for user, week in weeks_of.items() if week == cohort]
        table[cohort] = [
            sum((user, cohort + timedelta(days=7 * n)) in activity for user in members)
            if cohort + timedelta(days=7 * (n + 1) - 1) < today
            else None
            for n in range(intervals)
        ]
    return table


def free_listings(frame: pd.DataFrame) -> set[str]:
    """Listings whose price (event_created, then the newest event_updated that sets one) is 0."""
    price: dict[str, float] = {}
    changes = frame[frame["event_name"].isin(("event_created", "event_updated"))].sort_values("ts", kind="stable")
    for listing, properties in zip(changes["listing_id"], changes["properties"], strict=True):
        if isinstance(properties, dict) and properties.get("price") is not None:
            price[str(listing)] = float(properties["price"])
    return {listing for listing, value in price.items() if value == 0}


def funnel_views(frame: pd.DataFrame, first_day: date, last_day: date) -> pd.DataFrame:
    """Each identified view of the days with the earliest request, payment and check-in after it, in
    order, for the same user and listing; `reached` = how many of the four steps fall within 14 days."""
    identified = frame[frame["user_id"].notna() & frame["listing_id"].notna()]
    views = identified[
        (identified["event_name"] == "event_viewed")
        & (identified["day"] >= first_day)
        & (identified["day"] <= last_day)
    ][["user_id", "listing_id", "ts", "day"]].rename(columns={"ts": "viewed"})
    free = free_listings(frame)
    views = views.assign(free=views["listing_id"].isin(free))

    def next_step(left: pd.DataFrame, name: str, after: str, into: str) -> pd.DataFrame:
        steps = identified[identified["event_name"] == name][["user_id", "listing_id", "ts"]]
        steps = steps.sort_values("ts").rename(columns={"ts": into})
        known = left[left[after].notna()].sort_values(after)
        merged = pd.merge_asof(
            known,
            steps,
            left_on=after,
            right_on=into,
            by=["user_id", "listing_id"],
            direction="forward",
            allow_exact_matches=True,
        )
        rest = left[left[after].isna()].copy()
        rest[into] = pd.Series(pd.NaT, index=rest.index, dtype=steps[into].dtype)
        return pd.concat([merged, rest], ignore_index=True)

    views = next_step(views, "event_requested", "viewed", "requested")
    paid_side = next_step(views[~views["free"]], "payment_completed", "requested", "paid")
    free_side = views[views["free"]].assign(paid=views.loc[views["free"], "requested"])
    views = pd.concat([paid_side, free_side], ignore_index=True)
    views = next_step(views, "event_checked_in", "paid", "checked_in")
    deadline = views["viewed"] + WINDOW
    reached = pd.Series(1, index=views.index)
    ok = views["requested"].notna() & (views["requested"] <= deadline)
    reached = reached.where(~ok, 2)
    ok = ok & views["paid"].notna() & (views["paid"] <= deadline)
    reached = reached.where(~ok, 3)
    ok = ok & views["checked_in"].notna() & (views["checked_in"] <= deadline)
    reached = reached.where(~ok, 4)
    return views.assign(reached=reached)


def conversion(frame: pd.DataFrame, period: Period) -> float | None:
    """overall_conversion_rate: converted entrants ÷ entrants (identified viewers of the period)."""
    entrants = _in(frame[frame["user_id"].notna()], period)
    entrants = entrants[entrants["event_name"] == "event_viewed"]["user_id"].nunique()
    views = funnel_views(frame, period.start, period.end)
    converted = views[views["reached"] == 4]["user_id"].nunique()
    return _percent(converted, entrants)


def funnel_counts(frame: pd.DataFrame, first_day: date, last_day: date) -> list[int]:
    """Users reaching each step of the default funnel from views of the days (step 1: entrants)."""
    identified = frame[frame["user_id"].notna() & (frame["day"] >= first_day) & (frame["day"] <= last_day)]
    entrants = identified[identified["event_name"] == "event_viewed"]["user_id"].nunique()
    best = funnel_views(frame, first_day, last_day).groupby("user_id")["reached"].max()
    return [int(entrants)] + [int((best >= k).sum()) for k in (2, 3, 4)]


def net_revenue(frame: pd.DataFrame, period: Period) -> Decimal:
    rows = _in(frame[frame["event_name"].isin(REVENUE_SIGN)], period)
    total = Decimal(0)
    for name, properties in zip(rows["event_name"], rows["properties"], strict=True):
        total += REVENUE_SIGN[name] * Decimal(str(properties["amount"]))
    return total


def revenue_per_user(frame: pd.DataFrame, period: Period) -> float | None:
    users = active_users(frame, period)[""]
    return None if users == 0 else float(net_revenue(frame, period) / users)


def payment_failure_rate(frame: pd.DataFrame, period: Period, by: str | None = None) -> dict[str, float | None]:
    rows = _in(frame[frame["event_name"].isin(("payment_completed", "payment_failed"))], period)
    if by is None:
        return {"": _percent(int((rows["event_name"] == "payment_failed").sum()), len(rows))}
    keys = rows[by].fillna("").replace("", "unknown")
    return {
        str(key): _percent(int((group["event_name"] == "payment_failed").sum()), len(group))
        for key, group in rows.groupby(keys)
    }


def trend(
    frame: pd.DataFrame, event: str, first: date, last: date, *, interval: str, math: str, by: str | None
) -> tuple[dict[tuple[date, str], int], dict[str, int]]:
    """({(bucket, value of `by`): count}, {value of `by`: count over the range}) — tracked events, or the
    distinct identified users with `math="unique_users"`; buckets are business days or Monday weeks."""
    rows = frame[(frame["event_name"] == event) & (frame["day"] >= first) & (frame["day"] <= last)]
    if math == "unique_users":
        rows = rows[rows["user_id"].notna()]
    bucket = rows["day"] if interval == "day" else rows["day"].map(lambda d: d - timedelta(days=d.weekday()))
    key = rows[by].fillna("").replace("", "unknown") if by else pd.Series("", index=rows.index)

    def measure(groups: Any) -> pd.Series:
        return groups["user_id"].nunique() if math == "unique_users" else groups.size()

    points = {(b, str(k)): int(v) for (b, k), v in measure(rows.groupby([bucket, key])).items()}
    totals = {str(k): int(v) for k, v in measure(rows.groupby(key)).items()}
    return points, totals


def rounded(value: float | Decimal | None, digits: int = 6) -> float | None:
    """The service stores values rounded to 6 decimals (analytics/metrics/evaluation.py)."""
    return None if value is None else round(float(value), digits)


def mismatches(expected: dict[Any, Any], actual: dict[Any, Any]) -> list[str]:
    """Readable differences between two {key: value} maps (missing keys included)."""
    found = []
    for key in sorted(set(expected) | set(actual), key=str):
        if expected.get(key) != actual.get(key):
            found.append(f"{key}: expected {expected.get(key)!r}, got {actual.get(key)!r}")
    return found


def days_between(first: date, last: date) -> Iterable[date]:
    return (first + timedelta(days=n) for n in range((last - first).days + 1))
