"""The ClickHouse analytics engine (docs/operations.md, "Analytics engine").

The system of record (PostgreSQL, or SQLite embedded) keeps ingestion, identity, sessions, consent and
erasure; when `ANALYTICS_CLICKHOUSE_URL` names an engine, tracked events are replicated into it
(`replication.py`) and the analyses over tracked events are answered there (`trends.py`, …), with exactly
the SQL engine's answers. `client.py` is the one way to talk to it, `schema.py` its tables.
"""

from __future__ import annotations

from django.conf import settings

from analytics.metrics.clickhouse.client import ClickHouse, clickhouse_client
from analytics.metrics.clickhouse.schema import Layout
from loopin_backend.clickhouse_target import ClickHouseTarget


def engine_target() -> ClickHouseTarget | None:
    """The configured analytics engine; None when the SQL engine answers."""
    target: ClickHouseTarget | None = settings.ANALYTICS_CLICKHOUSE
    return target


def engine_layout(target: ClickHouseTarget) -> Layout:
    """Where the tables live: the database `loopin` of an embedded engine, the URL's on a server."""
    database = "loopin" if target.kind == "chdb" else target.database
    return Layout(database=database, cluster=settings.ANALYTICS_CLICKHOUSE_CLUSTER)


def engine() -> tuple[ClickHouse, Layout] | None:
    """The engine's client and tables; None when the SQL engine answers."""
    target = engine_target()
    if target is None:
        return None
    return clickhouse_client(target), engine_layout(target)
