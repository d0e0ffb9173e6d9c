"""Running one large read (a funnel over months, a rollup rebuild) with the memory it needs.

PostgreSQL's default `work_mem` (4 MB) sends the sorts and hashes of a 90-day funnel over millions of
tracked events to disk. `analysis_session()` opens a transaction and raises `work_mem` for it alone
(`SET LOCAL`, `settings.ANALYTICS_ANALYSIS_WORK_MEM`); other backends are untouched. On SQLite it does
nothing (no transaction either: the caller opens one where it writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction


@contextmanager
def analysis_session(*, hash_joins: bool = False) -> Iterator[None]:
    """`hash_joins`: also forbid merge joins for this transaction — for statements whose intermediate row
    counts the planner cannot estimate (common table expressions over millions of rows), where a merge join
    would sort millions of text keys that a hash join reads once."""
    if connection.vendor != "postgresql":  # nothing to tune; and no transaction (SQLite would lock for writing)
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        # set_config(…, true) is SET LOCAL with a bound value (the setting is validated too).
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.ANALYTICS_ANALYSIS_WORK_MEM])
        if hash_joins:
            cursor.execute("SELECT set_config('enable_mergejoin', 'off', true)")
        yield


def planner_statistics_refresh(*tables: str) -> None:
    """On PostgreSQL, `ANALYZE` tables that a bulk write has just rebuilt or filled, so the next statements
    plan with their real sizes. Autovacuum gets there eventually, or never where it is off; until then a
    table emptied and refilled by a backfill still looks empty to the planner, which then plans the next
    runs' joins over it for a few rows. `tables` are this project's table names."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
