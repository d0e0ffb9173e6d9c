"""Trends: the analytics engine (chDB) answers exactly what the SQL engine answers, on one simulated platform.

The platform (tests/support/cross_check.py: 500 users × 60 days through the real pipeline) is replicated
with `clickhouse_sync`; each query runs on both engines and the answers are compared field by field, all
but `computed_from`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from analytics import clock
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.trends import TrendsQuery, trends_run
from analytics.models import UserEvent
from tests.clickhouse.conftest import engine_off, engine_on
from tests.support.cross_check import END_DATE, FIRST_DAY, NOW

pytestmark = pytest.mark.django_db


WHOLE = DateRange(FIRST_DAY, END_DATE - timedelta(days=1))
QUERIES: list[dict[str, Any]] = [
    {"event": "event_viewed"},
    {"event": "event_viewed", "interval": "week"},
    {"event": "event_viewed", "math": "unique_users"},
    {"event": "event_viewed", "math": "unique_users", "interval": "week"},
    {"event": "event_viewed", "breakdown": "platform"},
    {"event": "event_viewed", "breakdown": "city", "math": "unique_users"},
    {"event": "event_viewed", "breakdown": "listing_id", "interval": "week"},
    {"event": "payment_completed", "breakdown": "host_id", "math": "unique_users", "interval": "week"},
    {"event": "event_viewed", "breakdown": "properties.category"},
    {"event": "event_requested", "breakdown": "properties.seats", "math": "unique_users"},
    {"event": "search_performed", "properties": (("category", "food"),)},
    {"event": "search_performed", "breakdown": "properties.category", "interval": "week"},
    {"event": "event_requested", "properties": (("seats", "2"),), "breakdown": "os"},
    {"event": "page_view", "breakdown": "browser"},
    {"event": "no_such_event"},
]


def both(settings: Any, chdb_dir: Path, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    query = TrendsQuery(range=kwargs.pop("range", WHOLE), **kwargs)
    engine_off(settings)
    sql = asdict(trends_run(query=query, use_rollups=False))
    engine_on(settings, chdb_dir)
    ours = asdict(trends_run(query=query))
    return sql, ours


@pytest.mark.parametrize("kwargs", QUERIES, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()))
def test_trends_equal_on_both_engines(platform: None, settings: Any, chdb_dir: Path, kwargs: dict[str, Any]) -> None:
    clock.freeze(NOW)
    sql, ours = both(settings, chdb_dir, **dict(kwargs))
    assert ours.pop("computed_from") == "clickhouse"
    assert sql.pop("computed_from") == "events"
    if kwargs["event"] != "no_such_event":
        assert sum(s["total"] for s in sql["series"]) > 0  # a real answer, not two empty ones
    assert ours == sql


def test_the_engine_holds_every_stored_event_once(platform: None, settings: Any, chdb_dir: Path) -> None:
    from analytics.metrics.clickhouse import engine
    from analytics.metrics.clickhouse.client import rows

    engine_on(settings, chdb_dir)
    found = engine()
    assert found is not None
    client, layout = found
    ((n, distinct),) = rows(client, f"SELECT count(), uniqExact(uuid) FROM {layout.events} FINAL")  # noqa: S608
    assert n == distinct == UserEvent.objects.count() > 10_000
