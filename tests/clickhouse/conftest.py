"""The ClickHouse tier: the analytics engine embedded (chDB) beside the system of record (SQLite here).

Every test chooses the engine through the `settings` fixture: `engine_on(settings, path)` points
`ANALYTICS_CLICKHOUSE` at a chDB directory; without it the SQL engine answers. One chDB session per
process (chDB's rule): the client reopens when a test names another directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from analytics import clock
from loopin_backend.clickhouse_target import clickhouse_target
from tests.support.cross_check import simulate_and_backfill


def engine_on(settings: Any, path: Path) -> None:
    settings.ANALYTICS_CLICKHOUSE = clickhouse_target(f"chdb://{path}")


def engine_off(settings: Any) -> None:
    settings.ANALYTICS_CLICKHOUSE = None


@pytest.fixture(scope="module")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("chdb"))


@pytest.fixture(scope="module")
def platform(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path
) -> Iterator[None]:
    """A module's simulated platform (tests/support/cross_check.py: 500 users × 60 days through the real
    pipeline, metrics backfilled, so the SQL side's rollups are current), replicated into `chdb_dir` by
    `clickhouse_sync`; the tables are emptied afterwards. The business "now" is cross_check.NOW."""
    from django.conf import settings as django_settings

    with django_db_blocker.unblock():
        saved = django_settings.ANALYTICS_CLICKHOUSE
        try:
            engine_on(django_settings, chdb_dir)
            simulate_and_backfill(Path(tmp_path_factory.mktemp("platform")))
            call_command("clickhouse_sync", verbosity=0)
            yield
        finally:
            django_settings.ANALYTICS_CLICKHOUSE = saved
            clock.freeze(None)
            call_command("flush", interactive=False, verbosity=0)
