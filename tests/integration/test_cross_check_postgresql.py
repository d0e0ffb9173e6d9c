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
