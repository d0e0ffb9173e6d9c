"""The cross-check on PostgreSQL: the API's numbers equal an independent pandas recomputation.

The same simulated platform and the same tests as the unit tier's tests/unit/metrics/test_cross_check.py
(imported below, so they cannot drift apart), here against the real PostgreSQL, where the rollups and
the funnel engine run other SQL than on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from analytics.metrics.rollups import ROLLUP_TABLES
from analytics.models import BusinessMetric
from tests.support.cross_check import Platform, simulated_platform
from tests.unit.metrics.test_cross_check import (  # noqa: F401  (collected here too)
    test_daily_active_users_match_overall_and_by_platform,
    test_funnel_endpoint_step_counts_match,
    test_overall_conversion_matches_for_every_period,
    test_payment_failure_rate_matches_overall_and_by_city,
    test_retention_endpoint_classic_rates_match,
    test_retention_matches_for_every_period,
    test_revenue_per_user_matches_for_every_period,
    test_trends_from_the_rollups_match,
    test_week_cohort_table_matches,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sim(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from simulated_platform(django_db_blocker, Path(tmp_path_factory.mktemp("cross-check-pg")))


def test_the_backfill_leaves_the_planner_real_statistics(sim: Platform) -> None:
    """After a backfill every table it rewrote has been analysed: the planner sees its real size, not the
    empty table of before (autovacuum may be off, as on the benchmark server)."""
    tables = [*ROLLUP_TABLES, BusinessMetric._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [tables])
        estimated = dict(cursor.fetchall())
        actual = {}
        for table in ("analytics_daily_user_activity", "analytics_business_metric"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  (our own table names)
            actual[table] = cursor.fetchone()[0]
    assert set(estimated) == set(tables)
    assert min(actual.values()) > 1000  # a real platform: worth a plan
    assert all(rows > 0 for rows in estimated.values()), estimated
    for table, rows in actual.items():
        assert abs(estimated[table] - rows) <= 0.1 * rows, (table, estimated[table], rows)
