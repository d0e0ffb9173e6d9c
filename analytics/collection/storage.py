"""Writing prepared events: one set-based insert that says which uuids were new.

PostgreSQL gets one `INSERT … SELECT FROM unnest(arrays) ON CONFLICT (uuid) DO NOTHING RETURNING
uuid` per chunk (one parameter per column, whatever the row count); SQLite gets multi-row VALUES
with the same conflict clause. Either way the database, not a query per event, tells which rows
were new; the rest are classified as duplicates or conflicts by their stored payload hash.
"""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Iterable, Sequence
from dataclasses import astuple, fields

import orjson
from django.db import connection

from analytics.collection.envelope import PreparedEvent
from analytics.models import UserEvent

TABLE = UserEvent._meta.db_table
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(PreparedEvent))
_JSON_COLUMNS = frozenset({"properties", "context"})
_PG_TYPES = {
    "uuid": "uuid",
    "payload_hash": "text",
    "timestamp": "timestamptz",
    "received_at": "timestamptz",
    "sent_at": "timestamptz",
    "properties": "jsonb",
    "context": "jsonb",
    "response_time_ms": "float8",
    "status_code": "int2",
    "revenue_impact": "numeric",
}
_PG_CHUNK = 5000


def _pg_insert_sql() -> str:
    arrays = ", ".join(
        "%s::text[]" if _PG_TYPES.get(c, "text") == "jsonb" else f"%s::{_PG_TYPES.get(c, 'text')}[]"
        for c in COLUMNS
    )
    select = ", ".join(f"u.{c}::jsonb" if c in _JSON_COLUMNS else f"u.{c}" for c in COLUMNS)
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    return (
        f"INSERT INTO {TABLE} ({names}) SELECT {select} FROM unnest({arrays}) AS u({names}) "
        f"ON CONFLICT (uuid) DO NOTHING RETURNING uuid"
    )


_PG_INSERT = _pg_insert_sql()


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _insert_postgresql(events: Sequence[PreparedEvent]) -> set[uuid_lib.UUID]:
    inserted: set[uuid_lib.UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(events), _PG_CHUNK):
            chunk = events[start : start + _PG_CHUNK]
            columns: list[list[object]] = [[] for _ in COLUMNS]
            for event in chunk:
                for position, value in enumerate(astuple(event)):
                    columns[position].append(value)
            for position, name in enumerate(COLUMNS):
                if name in _JSON_COLUMNS:
                    columns[position] = [_json(v) for v in columns[position]]
            cursor.execute(_PG_INSERT, columns)
            inserted.update(_as_uuid(row[0]) for row in cursor.fetchall())
    return inserted


def _insert_generic(events: Sequence[PreparedEvent]) -> set[uuid_lib.UUID]:
    model_fields = [UserEvent._meta.get_field(name) for name in COLUMNS]
    per_row = len(COLUMNS)
    chunk_size = max(1, min(500, connection.features.max_query_params // per_row))
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    inserted: set[uuid_lib.UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(events), chunk_size):
            chunk = events[start : start + chunk_size]
            params: list[object] = []
            for event in chunk:
                for field, value in zip(model_fields, astuple(event), strict=True):
                    params.append(field.get_db_prep_save(value, connection))
            sql = (
                f"INSERT INTO {TABLE} ({names}) VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT (uuid) DO NOTHING RETURNING uuid"
            )
            cursor.execute(sql, params)
            inserted.update(_as_uuid(row[0]) for row in cursor.fetchall())
    return inserted


def _as_uuid(value: object) -> uuid_lib.UUID:
    return value if isinstance(value, uuid_lib.UUID) else uuid_lib.UUID(str(value))


def insert_new_events(events: Sequence[PreparedEvent]) -> set[uuid_lib.UUID]:
    """Insert every event whose uuid is new; returns the uuids actually inserted.

    Must run inside the caller's transaction. Existing uuids are left untouched (never overwritten).
    """
    if not events:
        return set()
    if connection.vendor == "postgresql":
        return _insert_postgresql(events)
    return _insert_generic(events)


def stored_hashes(uuids: Iterable[uuid_lib.UUID]) -> dict[uuid_lib.UUID, str]:
    """Payload hashes of already-stored events, by uuid (one query per 1,000 uuids)."""
    wanted = list(uuids)
    found: dict[uuid_lib.UUID, str] = {}
    for start in range(0, len(wanted), 1000):
        rows = UserEvent.objects.filter(uuid__in=wanted[start : start + 1000]).values_list("uuid", "payload_hash")
        found.update(rows)
    return found
