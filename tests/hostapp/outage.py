"""A real analytics-store outage for the collection tests: the tracked-event table goes away.

The writes fail inside the database (`no such table`), exactly as an unreachable store fails them
— nothing of ours is patched. The table (and its rows and indexes) comes back when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from analytics.models import UserEvent

TABLE = UserEvent._meta.db_table
OFFLINE = f"{TABLE}_offline"


@contextmanager
def analytics_store_down() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OFFLINE}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {OFFLINE} RENAME TO {TABLE}")
