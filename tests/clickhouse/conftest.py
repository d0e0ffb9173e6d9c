"""The ClickHouse tier: the analytics engine embedded (chDB) beside the system of record (SQLite here).

Every test chooses the engine through the `settings` fixture: `engine_on(settings, path)` points
`ANALYTICS_CLICKHOUSE` at a chDB directory; without it the SQL engine answers. One chDB session per
process (chDB's rule): the client reopens when a test names another directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loopin_backend.clickhouse_target import clickhouse_target


def engine_on(settings: Any, path: Path) -> None:
    settings.ANALYTICS_CLICKHOUSE = clickhouse_target(f"chdb://{path}")


def engine_off(settings: Any) -> None:
    settings.ANALYTICS_CLICKHOUSE = None
