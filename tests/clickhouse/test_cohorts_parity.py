"""Retention, lifecycle and stickiness: the analytics engine (chDB) answers exactly what the SQL engine answers.

The SQL engine reads the rollups (`DailyUserActivity`, `UserFirstActivity`, current after the platform's
backfill); the engine derives the same from the replicated events. Each query runs on both engines over the
simulated platform (tests/support/cross_check.py: 500 users × 60 days, business today = NOW) and the answers
are compared field by field, all but `computed_from`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from analytics import clock
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.lifecycle import LifecycleQuery, lifecycle_run
from analytics.metrics.analyses.retention import RetentionQuery, retention_run
from analytics.metrics.analyses.stickiness import StickinessQuery, stickiness_run
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.client import rows
from analytics.metrics.rollups import rollups_rebuild
from tests.clickhouse.conftest import engine_off, engine_on
from tests.support.cross_check import END_DATE, FIRST_DAY, NOW, TODAY
from tests.unit.metrics.support import ev, ingest

pytestmark = pytest.mark.django_db

LAST = END_DATE - timedelta(days=1)  # the platform's last day with events
WHOLE = DateRange(FIRST_DAY, LAST)
EARLY = DateRange(FIRST_DAY, FIRST_DAY + timedelta(days=13))  # "new" dominates
MIDDLE = DateRange(FIRST_DAY + timedelta(days=20), FIRST_DAY + timedelta(days=40))
LATE = DateRange(LAST - timedelta(days=10), LAST)  # cells reach past today: null
PAST_TODAY = DateRange(TODAY - timedelta(days=20), TODAY + timedelta(days=6))


def both(settings: Any, chdb_dir: Path, run: Any, query: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SQL engine's answer and the analytics engine's, as dicts, `computed_from` checked and removed."""
    clock.freeze(NOW)
    engine_off(settings)
    sql = asdict(run(query=query))
    engine_on(settings, chdb_dir)
    ours = asdict(run(query=query))
    assert sql.pop("computed_from") == "rollup"
    assert ours.pop("computed_from") == "clickhouse"
    return sql, ours


RETENTION = [
    (WHOLE, "day", 31),
    (WHOLE, "day", 1),
    (EARLY, "day", 8),
    (MIDDLE, "day", 31),
    (LATE, "day", 8),
    (PAST_TODAY, "day", 31),
    (WHOLE, "week", 8),
    (EARLY, "week", 8),
    (MIDDLE, "week", 1),
    (LATE, "week", 31),
    (DateRange(FIRST_DAY + timedelta(days=3), FIRST_DAY + timedelta(days=24)), "week", 8),  # mid-week bounds
]


@pytest.mark.parametrize(
    ("rng", "period", "intervals"),
    RETENTION,
    ids=[f"{r.date_from}..{r.date_to}-{p}-{n}" for r, p, n in RETENTION],
)
def test_retention_equal_on_both_engines(
    platform: None, settings: Any, chdb_dir: Path, rng: DateRange, period: str, intervals: int
) -> None:
    sql, ours = both(settings, chdb_dir, retention_run, RetentionQuery(range=rng, period=period, intervals=intervals))
    assert sql["cohorts"] and all(c["size"] > 0 for c in sql["cohorts"])
    if intervals > 1 and rng.date_from < TODAY - timedelta(days=7 if period == "week" else 1):
        assert any(n for c in sql["cohorts"] for n in c["retained"][1:] if n)  # some came back
    assert ours == sql


def test_retention_classic_rates_are_real(platform: None, settings: Any, chdb_dir: Path) -> None:
    sql, ours = both(settings, chdb_dir, retention_run, RetentionQuery(range=WHOLE))
    assert all(sql["classic"][k] for k in ("d1", "d7", "d30"))  # every rate present and above 0
    assert ours == sql


LIFECYCLE = [
    (EARLY, "day"),
    (WHOLE, "day"),
    (MIDDLE, "day"),
    (PAST_TODAY, "day"),
    (EARLY, "week"),
    (WHOLE, "week"),
    (DateRange(FIRST_DAY - timedelta(days=10), FIRST_DAY + timedelta(days=30)), "week"),  # starts before any event
    (PAST_TODAY, "week"),
]


@pytest.mark.parametrize(("rng", "interval"), LIFECYCLE, ids=[f"{r.date_from}..{r.date_to}-{i}" for r, i in LIFECYCLE])
def test_lifecycle_equal_on_both_engines(
    platform: None, settings: Any, chdb_dir: Path, rng: DateRange, interval: str
) -> None:
    sql, ours = both(settings, chdb_dir, lifecycle_run, LifecycleQuery(range=rng, interval=interval))
    points = sql["points"]
    assert sum(p["active"] for p in points) > 0
    assert sum(p["returning"] for p in points) > 0
    if rng.date_from <= FIRST_DAY:
        opening = next(p for p in points if p["active"])
        assert opening["new"] == opening["active"]  # nobody was active before the platform's first day
        if rng == EARLY:
            assert sum(p["new"] for p in points) > sum(p["resurrecting"] for p in points)
    else:
        assert sum(p["resurrecting"] for p in points) > 0 and sum(p["dormant"] for p in points) > 0
    assert ours == sql


def test_lifecycle_first_day_is_all_new(platform: None, settings: Any, chdb_dir: Path) -> None:
    sql, ours = both(settings, chdb_dir, lifecycle_run, LifecycleQuery(range=DateRange(FIRST_DAY, FIRST_DAY)))
    (point,) = sql["points"]
    assert point["active"] == point["new"] > 0
    assert ours == sql


STICKINESS = [
    DateRange(LAST - timedelta(days=6), LAST),  # 7 days
    DateRange(LAST - timedelta(days=29), LAST),  # 30 days
    WHOLE,
    PAST_TODAY,  # days after today are not counted
    DateRange(TODAY + timedelta(days=1), TODAY + timedelta(days=5)),  # nothing yet: no days
]


@pytest.mark.parametrize("rng", STICKINESS, ids=[f"{r.date_from}..{r.date_to}" for r in STICKINESS])
def test_stickiness_equal_on_both_engines(platform: None, settings: Any, chdb_dir: Path, rng: DateRange) -> None:
    sql, ours = both(settings, chdb_dir, stickiness_run, StickinessQuery(range=rng))
    if rng.date_from <= TODAY:
        assert sql["users"] > 0 and sql["dau_over_unique"]
        assert sum(n for k, n in sql["distribution"] if k > 1) > 0  # some came back on another day
    else:
        assert sql["days"] == 0 and sql["dau_over_unique"] is None
    assert ours == sql


def test_past_today_counts_only_days_up_to_today(platform: None, settings: Any, chdb_dir: Path) -> None:
    sql, ours = both(settings, chdb_dir, stickiness_run, StickinessQuery(range=PAST_TODAY))
    assert sql["days"] == (TODAY - PAST_TODAY.date_from).days + 1 == len(sql["distribution"])
    assert ours == sql


# The simulator sends an `api_request` only beside a user action, so the platform alone cannot tell "active"
# from "any identified event"; nor does it pin the business day at night. A few people of our own, months
# before the platform (nobody there is active then), through the real pipeline: ingested and processed, their
# days' rollups rebuilt, replicated; the SQL side is rolled back with the test, the engine's copy deleted.
D0 = date(2025, 11, 3)  # a Monday


def _day(n: int, at: str = "10:00") -> str:
    return f"{(D0 + timedelta(days=n)).isoformat()}T{at}"


def _own_people() -> list[dict[str, Any]]:
    api = {"route": "/x", "method": "GET", "status_code": 200, "response_time_ms": 5}
    return [
        ev("api_request", _day(0), user="ck-api-only", **api),  # never user-initiated: never active
        ev("app_error", _day(1), user="ck-api-only", error_type="Timeout"),
        ev("page_view", _day(0), user="ck-mixed", path="/"),
        ev("api_request", _day(1), user="ck-mixed", **api),  # not active on day 1
        ev("page_view", _day(2), user="ck-mixed", path="/"),
        ev("page_view", _day(1, "02:00"), user="ck-night", path="/"),  # 20:30 UTC on day 0
        ev("page_view", _day(2, "03:00"), user="ck-night", path="/"),  # 21:30 UTC on day 1
        ev("page_view", _day(0), anon="ck-anonymous", path="/"),  # anonymous: never active
    ]


def test_only_identified_user_initiated_events_on_business_days_count(
    platform: None, settings: Any, chdb_dir: Path
) -> None:
    clock.freeze(NOW)
    engine_on(settings, chdb_dir)
    events = _own_people()
    found = engine()
    assert found is not None
    client, layout = found
    try:
        ingest(*events)
        rollups_rebuild(days={D0 + timedelta(days=n) for n in range(3)})
        call_command("clickhouse_sync", verbosity=0)
        window = DateRange(D0, D0 + timedelta(days=3))
        sql, ours = both(settings, chdb_dir, retention_run, RetentionQuery(range=window, intervals=3))
        assert [(c["cohort_start"], c["size"], c["retained"]) for c in sql["cohorts"]] == [
            (D0, 1, [1, 0, 1]),  # ck-mixed: back on day 2, not on day 1 (only an api_request)
            (D0 + timedelta(days=1), 1, [1, 1, 0]),  # ck-night: first active on business day 1
        ]
        assert sql["classic"] == {"d1": 50.0, "d7": 0.0, "d30": 0.0}
        assert ours == sql
        sql, ours = both(settings, chdb_dir, lifecycle_run, LifecycleQuery(range=window))
        assert [tuple(p.values())[1:] for p in sql["points"]] == [
            (1, 1, 0, 0, 0),  # active, new, returning, resurrecting, dormant
            (1, 1, 0, 0, 1),
            (2, 0, 1, 1, 0),
            (0, 0, 0, 0, 2),
        ]
        assert ours == sql
        sql, ours = both(settings, chdb_dir, stickiness_run, StickinessQuery(range=window))
        assert (sql["users"], sql["dau_over_unique"]) == (2, 50.0)
        assert sql["distribution"] == [(1, 0), (2, 2), (3, 0), (4, 0)]  # both on 2 of the 4 days
        assert ours == sql
    finally:
        client.command(
            f"DELETE FROM {layout.events} WHERE uuid IN {{uuids:Array(UUID)}}",  # noqa: S608
            {"uuids": [e["uuid"] for e in events]},
        )
        before = "2025-12-01 00:00:00.000000"
        left = f"SELECT count() FROM {layout.events} FINAL WHERE timestamp < {{t:DateTime64(6, 'UTC')}}"  # noqa: S608
        assert rows(client, left, {"t": before}) == [(0,)]  # the engine's copy is as the other tests found it


def test_the_api_says_which_engine_answered(platform: None, settings: Any, chdb_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from analytics.security.tokens import token_issue
    from loopin_backend.asgi import application

    clock.freeze(None)  # the token is checked against the real time …
    headers = {"Authorization": f"Bearer {token_issue(role='analyst', sub='cohorts-parity')}"}
    clock.freeze(NOW)  # … the data's business today stays NOW
    window = {"date_from": MIDDLE.date_from.isoformat(), "date_to": MIDDLE.date_to.isoformat()}
    with TestClient(application) as client:
        for path, extra in (("retention", {"period": "week", "intervals": 4}), ("lifecycle", {}), ("stickiness", {})):
            answers = {}
            for on in (False, True):
                engine_on(settings, chdb_dir) if on else engine_off(settings)
                response = client.get(f"/api/analytics/{path}", params={**window, **extra}, headers=headers)
                assert response.status_code == 200, response.text
                answers[on] = response.json()
            assert answers[False].pop("computed_from") == "rollup"
            assert answers[True].pop("computed_from") == "clickhouse"
            assert answers[True] == answers[False]
    # The API's worker threads used the chDB session: closed here (the next use reopens it), or chDB reports
    # "Exception in global_context->shutdown()" when the interpreter exits.
    found = engine()
    assert found is not None
    found[0].close()
