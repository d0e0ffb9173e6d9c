"""The SQL behind the churn and conversion features: every cutoff of a training split in one pass.

Time is cut into 24-hour buckets counted from an anchor (the start of the earliest cutoff's lookback); all
cutoffs of one read share the anchor's time of day, so each cutoff is a bucket boundary and "the 7 days
before the cutoff" is exactly buckets `k − 7 … k − 1` of the cutoff's bucket `k`. The tracked events are
first rolled up per user and bucket (one scan), then every cutoff's window is summed from the rollup
(joined with the list of cutoffs): eight weekly training cutoffs cost one scan of the events, not eight.

The statements run on PostgreSQL and SQLite; the few expressions that differ (bucket arithmetic, JSON
numbers, joining a list into text) are the `_Dialect`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from analytics.models import EventListing, Session, UserEvent

DAY = timedelta(days=1)
EVENTS = UserEvent._meta.db_table
SESSIONS = Session._meta.db_table
LISTINGS = EventListing._meta.db_table
NOT_USER_INITIATED = ("api_request", "app_error")
SENTIMENT_EVENTS = ("review_submitted", "feedback_submitted")


class _Dialect:
    """The expressions PostgreSQL and SQLite spell differently."""

    def __init__(self, vendor: str) -> None:
        self.postgresql = vendor == "postgresql"

    def bucket(self, column: str) -> str:
        """Whole days from the anchor (one `%s` parameter) to `column`, rounded down; the reads keep
        `column` at or after the anchor (SQLite's integer division rounds towards zero)."""
        if self.postgresql:
            return f"CAST(FLOOR(date_part('epoch', {column} - %s) / 86400) AS integer)"
        return f"(django_timestamp_diff({column}, %s) / 86400000000)"  # Django's function: microseconds

    def offset(self, column: str) -> str:
        """How long after the anchor (one `%s` parameter) `column` is: seconds as a double on PostgreSQL
        (`date_part`; over the 90-odd days read, 7.8 million seconds, a double resolves far below a
        microsecond, so day boundaries fall exactly — and `EXTRACT`'s numeric arithmetic made the feature
        read 40% slower at 100,000 users), integer microseconds on SQLite (Django's function)."""
        if self.postgresql:
            return f"date_part('epoch', {column} - %s)"
        return f"django_timestamp_diff({column}, %s)"

    def offset_bucket(self, offset: str) -> str:
        """The whole days of an `offset`, rounded down exactly (offsets are never negative here)."""
        if self.postgresql:
            return f"CAST(FLOOR({offset} / 86400) AS integer)"
        return f"({offset} / 86400000000)"

    def offset_days(self, offset: str) -> str:
        """An `offset` in (fractional) days, as a float."""
        if self.postgresql:
            return f"CAST({offset} / 86400 AS double precision)"
        return f"({offset} / 86400000000.0)"

    def json_count(self, column: str, key: str) -> str:
        """A JSON property that is a number, or the length of a list (`fields_completed` is either)."""
        if self.postgresql:
            value = f"{column} -> '{key}'"
            return (
                f"CASE jsonb_typeof({value}) WHEN 'number' THEN CAST({column} ->> '{key}' AS double precision) "
                f"WHEN 'array' THEN jsonb_array_length({value}) END"
            )
        path = f"'$.{key}'"
        return (
            f"CASE json_type({column}, {path}) WHEN 'integer' THEN json_extract({column}, {path}) "
            f"WHEN 'real' THEN json_extract({column}, {path}) WHEN 'array' THEN json_array_length({column}, {path}) END"
        )

    def joined(self, expression: str) -> str:
        """The non-null values of `expression` in a group, as comma-separated text."""
        if self.postgresql:
            return f"STRING_AGG(CAST({expression} AS text), ',')"
        return f"GROUP_CONCAT({expression}, ',')"


def _names(names: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{name}'" for name in names) + ")"  # constants of this module, never input


@dataclass(frozen=True)
class Window:
    """The cutoffs of one read as buckets from the anchor, and the span of events it reads."""

    anchor: datetime
    buckets: tuple[int, ...]  # each cutoff's bucket k: its lookback is buckets k − lookback … k − 1
    end: datetime  # events before this instant are read

    @classmethod
    def of(cls, cutoffs: Sequence[datetime], *, lookback_days: int, horizon_days: int) -> Window:
        anchor = min(cutoffs) - lookback_days * DAY
        buckets = []
        for cutoff in cutoffs:
            days, rest = divmod(cutoff - anchor, DAY)
            if rest:
                raise ValueError("the cutoffs of one read must be whole days apart")
            buckets.append(int(days))
        return cls(anchor=anchor, buckets=tuple(buckets), end=max(cutoffs) + horizon_days * DAY)

    @property
    def last_cutoff(self) -> datetime:
        """The latest cutoff: no feature reads an event at or after it."""
        return self.anchor + max(self.buckets) * DAY

    def cutoffs_sql(self) -> str:
        return ", ".join(f"({i}, {int(k)})" for i, k in enumerate(self.buckets))


class FeatureQueries:
    """The grouped reads of one `Window`, optionally limited to some users. Each returns rows keyed by
    (cutoff index, user id)."""

    def __init__(
        self, window: Window, *, lookback_days: int, horizon_days: int, user_ids: Sequence[str] | None
    ) -> None:
        self.window = window
        self.lookback = int(lookback_days)
        self.horizon = int(horizon_days)
        self.dialect = _Dialect(connection.vendor)
        self.user_ids = list(user_ids) if user_ids is not None else None

    def _param(self, instant: datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(instant)

    def _users(self, alias: str) -> tuple[str, list[Any]]:
        if self.user_ids is None:
            return "", []
        marks = ", ".join(["%s"] * len(self.user_ids))
        return f" AND {alias}.user_id IN ({marks})", list(self.user_ids)

    def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def events(self, *, labels: bool) -> list[dict[str, Any]]:
        """Per cutoff, every user with a user-initiated event in the `population_days` before it: their
        lookback aggregates (and, with `labels`, whether they were active / checked in during the horizon)."""
        d = self.dialect
        anchor = self._param(self.window.anchor)
        initiated = f"e.event_name NOT IN {_names(NOT_USER_INITIATED)}"

        def count(condition: str) -> str:
            return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

        def when(condition: str, value: str) -> str:
            return f"CASE WHEN {condition} THEN {value} END"

        def named(name: str) -> str:
            return f"e.event_name = '{name}'"

        users, user_params = self._users("e")
        days = d.offset_days("e.t")  # days since the anchor, as a float
        rollup = f"""
            SELECT e.user_id AS user_id, {d.offset_bucket("e.t")} AS b,
                {count(initiated)} AS initiated,
                MIN({when(initiated, days)}) AS first_at,
                MAX({when(initiated, days)}) AS last_at,
                {count(named("event_viewed"))} AS views,
                {count(named("event_requested"))} AS requests,
                MAX({when(named("event_requested"), days)}) AS last_request,
                {count(named("payment_completed"))} AS payments,
                SUM({when(named("payment_completed"), "e.revenue_impact")}) AS revenue,
                MAX({when(named("payment_completed"), days)}) AS last_payment,
                {count(named("payment_failed"))} AS payment_failures,
                {count(named("event_request_declined"))} AS declined,
                {count(named("payment_refunded"))} AS refunds,
                {count(named("event_checked_in"))} AS check_ins,
                MAX({when(named("event_checked_in"), days)}) AS last_check_in,
                {count(named("app_error"))} AS app_errors,
                {count(named("otp_failed"))} AS otp_failures,
                {count(named("review_submitted"))} AS reviews,
                SUM({when(f"e.event_name IN {_names(SENTIMENT_EVENTS)}", "e.sentiment_score")}) AS sentiment_sum,
                {count(f"e.event_name IN {_names(SENTIMENT_EVENTS)} AND e.sentiment_score IS NOT NULL")}
                    AS sentiment_n,
                MIN({when(named("review_submitted"), d.json_count("e.properties", "rating"))}) AS rating_min,
                MAX({when(named("profile_updated"), d.json_count("e.properties", "fields_completed"))})
                    AS fields_max
            FROM (
                SELECT e.*, {d.offset("e.timestamp")} AS t FROM {EVENTS} e
                WHERE e.user_id IS NOT NULL AND e.timestamp >= %s AND e.timestamp < %s{users}
            ) e
            GROUP BY 1, 2
        """  # noqa: S608 (interpolations are this module's constants; values are parameters)
        before = "r.b < c.k"

        def within(days: int) -> str:
            return f"r.b >= c.k - {days} AND r.b < c.k"

        label_columns = (
            """,
                MAX(CASE WHEN r.b >= c.k AND r.initiated > 0 THEN 1 ELSE 0 END) AS active_after,
                MAX(CASE WHEN r.b >= c.k AND r.check_ins > 0 THEN 1 ELSE 0 END) AS checked_in_after"""
            if labels
            else ""
        )
        horizon = self.horizon if labels else 0
        sql = f"""
            WITH cutoffs(idx, k) AS (VALUES {self.window.cutoffs_sql()}), rollup AS ({rollup})
            SELECT c.idx, r.user_id,
                c.k - MIN({when(before, "r.first_at")}) AS first_days_ago,
                c.k - MAX({when(before, "r.last_at")}) AS last_days_ago,
                SUM({when(within(30), "r.views")}) AS views_30,
                SUM({when(before, "r.requests")}) AS requests_90,
                c.k - MAX({when(before, "r.last_request")}) AS request_days_ago,
                SUM({when(before, "r.payments")}) AS payments_90,
                SUM({when(before, "r.revenue")}) AS revenue_90,
                c.k - MAX({when(before, "r.last_payment")}) AS payment_days_ago,
                SUM({when(before, "r.payment_failures")}) AS payment_failures_90,
                SUM({when(before, "r.declined")}) AS declined_90,
                SUM({when(before, "r.refunds")}) AS refunds_90,
                SUM({when(before, "r.check_ins")}) AS check_ins_90,
                c.k - MAX({when(before, "r.last_check_in")}) AS check_in_days_ago,
                SUM({when(within(30), "r.app_errors")}) AS app_errors_30,
                SUM({when(within(30), "r.otp_failures")}) AS otp_failures_30,
                SUM({when(before, "r.reviews")}) AS reviews_90,
                SUM({when(before, "r.sentiment_sum")}) AS sentiment_sum,
                SUM({when(before, "r.sentiment_n")}) AS sentiment_n,
                MIN({when(before, "r.rating_min")}) AS rating,
                MAX({when(before, "r.fields_max")}) AS fields_completed,
                {d.joined(when(f"{before} AND r.initiated > 0", "c.k - 1 - r.b"))} AS active_days{label_columns}
            FROM rollup r JOIN cutoffs c ON r.b >= c.k - {self.lookback} AND r.b < c.k + {horizon}
            GROUP BY c.idx, c.k, r.user_id
            HAVING MAX(CASE WHEN {within(30)} AND r.initiated > 0 THEN 1 ELSE 0 END) = 1
        """  # noqa: S608
        params = [anchor, anchor, self._param(self.window.end), *user_params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def sessions(self) -> dict[tuple[int, str], dict[str, Any]]:
        """Browsing sessions (an identified user's sessions that showed a screen) per cutoff and user."""
        d = self.dialect
        anchor = self._param(self.window.anchor)
        users, user_params = self._users("s")

        def count(low: int, high: int = 0) -> str:
            return f"SUM(CASE WHEN s.b >= c.k - {low} AND s.b < c.k - {high} THEN 1 ELSE 0 END)"

        sql = f"""
            WITH cutoffs(idx, k) AS (VALUES {self.window.cutoffs_sql()}),
            started AS (
                SELECT s.user_id AS user_id, {d.bucket("s.started_at")} AS b, s.duration_seconds AS seconds,
                    s.event_count AS events
                FROM {SESSIONS} s
                WHERE s.user_id IS NOT NULL AND s.entry_screen <> '' AND s.started_at >= %s AND s.started_at < %s{users}
            )
            SELECT c.idx, s.user_id, {count(7)} AS sessions_7, {count(30)} AS sessions_30,
                {count(60, 30)} AS sessions_prev_30, COUNT(*) AS sessions_90, AVG(s.seconds) AS mean_seconds,
                AVG(s.events) AS mean_events, AVG(CASE WHEN s.b >= c.k - 14 THEN s.events END) AS recent_events
            FROM started s JOIN cutoffs c ON s.b >= c.k - {self.lookback} AND s.b < c.k
            GROUP BY c.idx, s.user_id
        """  # noqa: S608
        params = [anchor, anchor, self._param(self.window.last_cutoff), *user_params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description][2:]
            return {(idx, str(user)): dict(zip(names, rest, strict=True)) for idx, user, *rest in cursor.fetchall()}

    def no_shows(self) -> dict[tuple[int, str], int]:
        """Listings a user was accepted to in the lookback, held (started inside it, not cancelled before the
        cutoff) and not checked in to within it."""
        d = self.dialect
        anchor = self._param(self.window.anchor)
        start, end = anchor, self._param(self.window.last_cutoff)
        users, user_params = self._users("e")
        lookback = self.lookback

        def of(name: str) -> str:
            return f"""
                SELECT DISTINCT e.user_id AS user_id, e.listing_id AS listing_id, {d.bucket("e.timestamp")} AS b
                FROM {EVENTS} e
                WHERE e.event_name = '{name}' AND e.user_id IS NOT NULL AND e.listing_id IS NOT NULL
                    AND e.timestamp >= %s AND e.timestamp < %s{users}
            """  # noqa: S608

        sql = f"""
            WITH cutoffs(idx, k) AS (VALUES {self.window.cutoffs_sql()}),
            accepted AS ({of("event_request_accepted")}),
            checked_in AS ({of("event_checked_in")}),
            held AS (
                SELECT l.listing_id AS listing_id, {d.bucket("l.starts_at")} AS starts,
                    CASE WHEN l.cancelled_at IS NULL THEN NULL
                         WHEN l.cancelled_at < %s THEN -1 ELSE {d.bucket("l.cancelled_at")} END AS cancelled
                FROM {LISTINGS} l WHERE l.starts_at >= %s AND l.starts_at < %s
            )
            SELECT c.idx, a.user_id, COUNT(DISTINCT a.listing_id)
            FROM accepted a
            JOIN cutoffs c ON a.b >= c.k - {lookback} AND a.b < c.k
            JOIN held h ON h.listing_id = a.listing_id AND h.starts >= c.k - {lookback} AND h.starts < c.k
                AND (h.cancelled IS NULL OR h.cancelled >= c.k)
            WHERE NOT EXISTS (
                SELECT 1 FROM checked_in ch
                WHERE ch.user_id = a.user_id AND ch.listing_id = a.listing_id
                    AND ch.b >= c.k - {lookback} AND ch.b < c.k
            )
            GROUP BY c.idx, a.user_id
        """  # noqa: S608
        params = [
            anchor, start, end, *user_params,  # accepted
            anchor, start, end, *user_params,  # checked_in
            anchor, anchor, anchor, start, end,  # held
        ]  # fmt: skip
        return {(idx, str(user)): int(n) for idx, user, n in self._run(sql, params)}

    def signup_sessions(self) -> dict[tuple[int, str], int]:
        """User-initiated events, before the cutoff, of the session where the user signed up (when the
        sign-up is inside the lookback): how much a newcomer explored at first."""
        d = self.dialect
        anchor = self._param(self.window.anchor)
        users, user_params = self._users("e")
        sql = f"""
            WITH cutoffs(idx, k) AS (VALUES {self.window.cutoffs_sql()}),
            signed_up AS (
                SELECT e.user_id AS user_id, e.session_id AS session_id, {d.bucket("e.timestamp")} AS b
                FROM {EVENTS} e
                WHERE e.event_name = 'user_registered' AND e.user_id IS NOT NULL AND e.session_id IS NOT NULL
                    AND e.timestamp >= %s AND e.timestamp < %s{users}
            ),
            session_events AS (
                SELECT e.session_id AS session_id,
                    CASE WHEN e.timestamp < %s THEN -1 ELSE {d.bucket("e.timestamp")} END AS b
                FROM {EVENTS} e
                WHERE e.session_id IN (SELECT session_id FROM signed_up)
                    AND e.event_name NOT IN {_names(NOT_USER_INITIATED)}
            )
            SELECT c.idx, r.user_id, COUNT(*)
            FROM signed_up r
            JOIN cutoffs c ON r.b >= c.k - {self.lookback} AND r.b < c.k
            JOIN session_events e ON e.session_id = r.session_id AND e.b < c.k
            GROUP BY c.idx, r.user_id
        """  # noqa: S608
        end = self._param(self.window.last_cutoff)
        params = [anchor, anchor, end, *user_params, anchor, anchor]
        return {(idx, str(user)): int(n) for idx, user, n in self._run(sql, params)}
