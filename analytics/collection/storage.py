"""Writing prepared events: one set-based insert that says which uuids were new.

PostgreSQL: the batch is streamed with binary `COPY … FROM STDIN` straight into the events table, in uuid
order, inside a savepoint. A batch whose uuids are all new (the usual case) is then stored by that one
statement. If any uuid is already stored (a replay, or a concurrent batch that shares it), the unique index
refuses the COPY, the savepoint is rolled back, and the batch goes the careful way: `COPY` into a temporary
staging table, then one `INSERT … SELECT … ORDER BY uuid ON CONFLICT (uuid) DO NOTHING RETURNING uuid`.
The direct way spares PostgreSQL the staging table's creation, copy and drop (about 15% of its CPU an event;
docs/benchmarks.md); a refused COPY leaves dead rows for vacuum, which only replays pay. The uuid order
keeps the lock order of concurrent batches that share uuids, so they wait for each other, never deadlock.
COPY is PostgreSQL's fastest way in and psycopg encodes its rows in C; the earlier parameter arrays
(`unnest`) cost about fifteen times more client CPU per row. SQLite gets multi-row VALUES with the same
conflict clause. Either way the database, not a query per event, tells which rows were new; the rest are
classified as duplicates or conflicts by their stored payload hash.
"""

from __future__ import annotations

import operator
import uuid as uuid_lib
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

import orjson
import psycopg
from django.db import connection, transaction
from django.db.models import Field
from psycopg.types.json import set_json_dumps

from analytics.collection.envelope import PreparedEvent
from analytics.models import UserEvent

TABLE = UserEvent._meta.db_table
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(PreparedEvent))
# One event as a row tuple, field by field (`dataclasses.astuple` would deep-copy every dict).
_row_of = operator.attrgetter(*COLUMNS)

_NAMES = ", ".join(f'"{c}"' for c in COLUMNS)
_STAGE = "analytics_incoming_events"
# (The SQL below is built from the model's own table and column names, never from input.)
_PG_STAGE = f"CREATE TEMPORARY TABLE {_STAGE} ON COMMIT DROP AS SELECT {_NAMES} FROM {TABLE} WITH NO DATA"  # noqa: S608
# Binary COPY: psycopg encodes every value in C, and PostgreSQL parses none of them from text.
_PG_COPY = f"COPY {_STAGE} ({_NAMES}) FROM STDIN (FORMAT BINARY)"
_PG_COPY_DIRECT = f"COPY {TABLE} ({_NAMES}) FROM STDIN (FORMAT BINARY)"
_PG_TYPE_OF_FIELD = {
    "UUIDField": "uuid",
    "DateTimeField": "timestamptz",
    "JSONField": "jsonb",
    "FloatField": "float8",
    "SmallIntegerField": "int2",
    "DecimalField": "numeric",
}
_INTERNAL_TYPES = {field.name: field.get_internal_type() for field in UserEvent._meta.concrete_fields}
_PG_COPY_TYPES = [_PG_TYPE_OF_FIELD.get(_INTERNAL_TYPES[name], "text") for name in COLUMNS]
# ORDER BY uuid: concurrent batches that share uuids take their index locks in one order.
_PG_MOVE = (
    f"INSERT INTO {TABLE} ({_NAMES}) SELECT {_NAMES} FROM {_STAGE} ORDER BY uuid "  # noqa: S608
    f"ON CONFLICT (uuid) DO NOTHING RETURNING uuid"
)
_PG_UNSTAGE = f"DROP TABLE {_STAGE}"


def _uuid_order(event: PreparedEvent) -> int:
    return event.uuid.int  # PostgreSQL orders uuids by their 16 bytes, i.e. as this unsigned integer


def _copy_rows(cursor: psycopg.Cursor[Any], statement: str, events: Sequence[PreparedEvent]) -> None:
    with cursor.copy(statement) as copy:
        copy.set_types(_PG_COPY_TYPES)
        for event in events:
            copy.write_row(_row_of(event))


def _insert_postgresql(events: Sequence[PreparedEvent]) -> set[uuid_lib.UUID]:
    ordered = sorted(events, key=_uuid_order)
    # savepoint=False: joins the caller's transaction (or opens one), which the savepoint and the staging table need.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        set_json_dumps(orjson.dumps, context=raw)  # JSON columns: orjson's bytes, as they are
        try:
            with transaction.atomic():  # a savepoint: a refused COPY is undone whole
                _copy_rows(raw, _PG_COPY_DIRECT, ordered)
        except psycopg.errors.UniqueViolation:
            pass  # a uuid is stored already (or by a concurrent batch that committed first): the careful way
        else:
            return {event.uuid for event in ordered}
        cursor.execute(_PG_STAGE)
        _copy_rows(raw, _PG_COPY, ordered)
        cursor.execute(_PG_MOVE)
        inserted = {_as_uuid(row[0]) for row in cursor.fetchall()}
        cursor.execute(_PG_UNSTAGE)
    return inserted


def _insert_generic(events: Sequence[PreparedEvent]) -> set[uuid_lib.UUID]:
    model_fields = [UserEvent._meta.get_field(name) for name in COLUMNS]
    prepare = [field.get_db_prep_save for field in model_fields if isinstance(field, Field)]
    per_row = len(COLUMNS)
    chunk_size = max(1, min(500, (connection.features.max_query_params or 999) // per_row))
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    inserted: set[uuid_lib.UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(events), chunk_size):
            chunk = events[start : start + chunk_size]
            params: list[Any] = []
            for event in chunk:
                for prep, value in zip(prepare, _row_of(event), strict=True):
                    params.append(prep(value, connection))
            sql = (  # identifiers are the model's own; every value is a bound parameter
                f"INSERT INTO {TABLE} ({_NAMES}) VALUES {', '.join([row_sql] * len(chunk))} "  # noqa: S608
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
