"""Replication of tracked events from the system of record into the analytics engine.

The system of record (PostgreSQL, or SQLite embedded) keeps everything transactional; the engine
receives a copy of the columns the analyses read (`schema.EVENT_COLUMNS`). What it still has to receive is
said by per-row markers written in the same transaction as the change (`analytics/models/replication.py`):

- processing marks every event it processes (`ReplicaPending`), identity merges every event they give a
  user id; a run sends marked events in bounded batches (`ANALYTICS_CLICKHOUSE_BATCH_SIZE`) and removes
  the markers in the transaction that saw the engine accept them: a crash in between sends them again,
  which the engine's `ReplacingMergeTree` folds into one row (the newest `version` wins);
- erasures and retention purges record what they deleted (`ReplicaDeletion`), applied after the sends
  of the same run with lightweight `DELETE`s;
- the first run against an engine (or against an engine wiped since: `replica` no longer holds our
  replica id) copies every stored event by id up to the largest id it saw at the start, then relies on
  the markers for everything after.

A run holds a lock so that two never interleave (PostgreSQL advisory lock; the embedded mode has one
process). `clickhouse_sync` and the task after each processing run call `replication_run`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid as uuid_module
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, TextField
from django.db.models.functions import Cast

from analytics import clock
from analytics.metrics.clickhouse import engine, engine_target
from analytics.metrics.clickhouse.client import ClickHouse, rows
from analytics.metrics.clickhouse.schema import Layout
from analytics.models import ReplicaDeletion, ReplicaPending, ReplicaState, UserEvent
from analytics.privacy.encryption import SENSITIVE_PROPERTIES

logger = logging.getLogger("analytics.clickhouse")
_LOCK_KEY = 0x10C0_C4  # the advisory lock of replication runs
_READ_COLUMNS = (
    "id",
    "uuid",
    "event_name",
    "event_type",
    "timestamp",
    "user_id",
    "device_type",
    "browser",
    "os",
    "city",
    "country",
    "listing_id",
    "host_id",
    "props",
)
_SENSITIVE: dict[str, tuple[str, ...]] = {}
for _event, _key in SENSITIVE_PROPERTIES:
    _SENSITIVE[_event] = (*_SENSITIVE.get(_event, ()), _key)


# --- a run ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicationRun:
    backfilled: int  # events of the initial copy sent by this run
    sent: int  # marked events sent
    deletions: int  # deletions applied
    pending: int  # markers left (0 when the run caught up)
    skipped: bool = False  # another run held the lock


@contextmanager
def _run_lock() -> Iterator[bool]:
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def replication_run(*, max_batches: int | None = None) -> ReplicationRun:
    """Send what the engine still lacks: the initial copy, then marked events, then deletions. Without
    `max_batches`, until caught up (`clickhouse_sync`)."""
    found = engine()
    if found is None:
        return ReplicationRun(0, 0, 0, 0)
    client, layout = found
    with _run_lock() as held:
        if not held:
            return ReplicationRun(0, 0, 0, ReplicaPending.objects.count(), skipped=True)
        state = _state(client, layout)
        budget = max_batches if max_batches is not None else 1 << 60
        backfilled, budget = _backfill(client, layout, state, budget)
        if backfilled and state.backfill_done:
            # The initial copy leaves dozens of parts that `FINAL` merges at every read until ClickHouse's
            # background merges catch up: merged once here (3 s for 4 million events), the first funnels
            # after a copy read one part per month (1.33 s → 0.96 s, docs/benchmarks.md).
            client.command(layout.compact_statement())
        sent, budget = _send_marked(client, layout, budget)
        deletions = _apply_deletions(client, layout)
        ReplicaState.objects.filter(id=state.id).update(last_run_at=clock.now())
    pending = ReplicaPending.objects.count()
    if backfilled or sent or deletions:
        logger.info(
            "clickhouse.replicated backfilled=%d sent=%d deletions=%d pending=%d",
            backfilled,
            sent,
            deletions,
            pending,
        )
    return ReplicationRun(backfilled, sent, deletions, pending)


def _state(client: ClickHouse, layout: Layout) -> ReplicaState:
    """The replication's state; a new replica (and a fresh copy) when the engine does not know ours."""
    for statement in layout.create_statements():
        client.command(statement)
    target = engine_target()
    assert target is not None
    state = ReplicaState.objects.filter(target=target.label).first()
    known = {str(r[0]) for r in rows(client, f"SELECT replica_id FROM {layout.replica} FINAL")}  # noqa: S608
    if state is not None and state.replica_id in known:
        return state
    # A first run, or the engine lost our data (or holds another replication's): start the copy afresh.
    client.command(f"TRUNCATE TABLE IF EXISTS {layout.events}")
    client.command(f"TRUNCATE TABLE IF EXISTS {layout.replica}")
    now = clock.now()
    replica_id = uuid_module.uuid4().hex
    until = UserEvent.objects.aggregate(m=Max("id"))["m"] or 0
    state, _ = ReplicaState.objects.update_or_create(
        target=target.label,
        defaults={
            "replica_id": replica_id,
            "created_at": now,
            "backfill_after": 0,
            "backfill_until": until,
            "backfill_done": until == 0,
            "last_run_at": None,
        },
    )
    # Markers of events the copy will read anyway (it reads their current state, after this point).
    ReplicaPending.objects.filter(event_id__lte=until).delete()
    client.insert(
        layout.replica,
        pa.table(
            {"replica_id": [replica_id], "created_at": pa.array([now], pa.timestamp("us", tz="UTC"))},
        ),
    )
    logger.info("clickhouse.replica_started target=%s events_to_copy_until_id=%d", target.label, until)
    return state


def _events_table(events: list[tuple[Any, ...]], version: int) -> pa.Table:
    """The engine's rows of `events` (tuples in `_READ_COLUMNS` order)."""
    columns: dict[str, list[Any]] = {name: [] for name in _READ_COLUMNS}
    for row in events:
        for name, value in zip(_READ_COLUMNS, row, strict=True):
            columns[name].append(value)
    properties = []
    for name, raw in zip(columns["event_name"], columns["props"], strict=True):
        text = raw if isinstance(raw, str) else json.dumps(raw or {})
        hidden = _SENSITIVE.get(name)
        if hidden:
            parsed = json.loads(text)
            if isinstance(parsed, dict):
                text = json.dumps({k: v for k, v in parsed.items() if k not in hidden})
        properties.append(text)
    text = pa.string()
    return pa.table(
        {
            "uuid": pa.array([str(u) for u in columns["uuid"]], text),
            "event_id": pa.array(columns["id"], pa.uint64()),
            "event_name": pa.array(columns["event_name"], text),
            "event_type": pa.array(columns["event_type"], text),
            "timestamp": pa.array(columns["timestamp"], pa.timestamp("us", tz="UTC")),
            "user_id": pa.array(columns["user_id"], text),
            "device_type": pa.array(columns["device_type"], text),
            "browser": pa.array(columns["browser"], text),
            "os": pa.array(columns["os"], text),
            "city": pa.array(columns["city"], text),
            "country": pa.array(columns["country"], text),
            "listing_id": pa.array(columns["listing_id"], text),
            "host_id": pa.array(columns["host_id"], text),
            "properties": pa.array(properties, text),
            "version": pa.array([version] * len(events), pa.uint64()),
        }
    )


def _read(queryset: Any) -> list[tuple[Any, ...]]:
    return list(queryset.annotate(props=Cast("properties", TextField())).values_list(*_READ_COLUMNS))


def _version() -> int:
    """Microseconds now: a later send of an event outranks an earlier one."""
    return time.time_ns() // 1000


def _backfill(client: ClickHouse, layout: Layout, state: ReplicaState, budget: int) -> tuple[int, int]:
    copied = 0
    batch = settings.ANALYTICS_CLICKHOUSE_BATCH_SIZE
    after = state.backfill_after
    while not state.backfill_done and budget > 0:
        ids = UserEvent.objects.filter(id__gt=after, id__lte=state.backfill_until).order_by("id")
        events = _read(ids[:batch])
        if events:
            client.insert(layout.events, _events_table(events, _version()))
            after = max(int(row[0]) for row in events)
            copied += len(events)
        done = len(events) < batch
        ReplicaState.objects.filter(id=state.id).update(backfill_after=after, backfill_done=done)
        state.backfill_after, state.backfill_done = after, done
        budget -= 1
    return copied, budget


def _send_marked(client: ClickHouse, layout: Layout, budget: int) -> tuple[int, int]:
    sent = 0
    batch = settings.ANALYTICS_CLICKHOUSE_BATCH_SIZE
    while budget > 0:
        with transaction.atomic():
            marked = ReplicaPending.objects.order_by("event_id")
            if connection.features.has_select_for_update_skip_locked:
                marked = marked.select_for_update(skip_locked=True)
            ids = list(marked.values_list("event_id", flat=True)[:batch])
            if not ids:
                break
            events = _read(UserEvent.objects.filter(id__in=ids).order_by("id"))
            if events:  # ids whose event is gone (erased, purged) are simply dropped
                client.insert(layout.events, _events_table(events, _version()))
            ReplicaPending.objects.filter(event_id__in=ids).delete()
        sent += len(events)
        budget -= 1
        if len(ids) < batch:
            break
    return sent, budget


def _apply_deletions(client: ClickHouse, layout: Layout) -> int:
    applied = 0
    for deletion in ReplicaDeletion.objects.order_by("id"):
        if deletion.before is not None:
            client.command(
                f"DELETE FROM {layout.events} WHERE timestamp < {{before:DateTime64(6, 'UTC')}}",  # noqa: S608
                {"before": deletion.before.strftime("%Y-%m-%d %H:%M:%S.%f")},
            )
        uuids = list(deletion.event_uuids or [])
        for start in range(0, len(uuids), 10_000):
            client.command(
                f"DELETE FROM {layout.events} WHERE uuid IN {{uuids:Array(UUID)}}",  # noqa: S608
                {"uuids": uuids[start : start + 10_000]},
            )
        deletion.delete()
        applied += 1
    return applied


def replication_lag() -> dict[str, Any]:
    """What the engine still lacks, for health and /metrics: markers, deletions, the initial copy's rest."""
    target = engine_target()
    if target is None:
        return {"engine": "sql"}
    state = ReplicaState.objects.filter(target=target.label).first()
    pending = ReplicaPending.objects.aggregate(n=Min("event_id"))
    oldest = None
    if pending["n"] is not None:
        oldest = UserEvent.objects.filter(id=pending["n"]).values_list("processed_at", flat=True).first()
    copy_left = 0
    if state is None:
        copy_left = UserEvent.objects.count()
    elif not state.backfill_done:
        copy_left = UserEvent.objects.filter(id__gt=state.backfill_after, id__lte=state.backfill_until).count()
    return {
        "engine": target.label,
        "pending_events": ReplicaPending.objects.count(),
        "pending_deletions": ReplicaDeletion.objects.count(),
        "initial_copy_remaining": copy_left,
        "oldest_pending_seconds": round((clock.now() - oldest).total_seconds(), 1) if oldest else 0.0,
        "last_run_at": state.last_run_at if state else None,
    }
