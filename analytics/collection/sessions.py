"""Sessions: assigned server-side when the client sends none, and summarised into `Session` rows.

Assignment (at ingestion, before insert): an actor is its device (`a:<anonymous_id>`) or else
its user (`u:<user_id>`). An event joins the actor's open session when it falls within 30 minutes
of the session's events and the session stays under 24 hours; otherwise it opens a new one. Ids
are derived from the actor and the first event's time, so a replay gets the same id. An event
older than the open session (a late arrival) is sessionised among the batch's other late events
without moving the open session.

Summary (a processing step): every session touched by a chunk is recomputed from its stored
events in one grouped query — start, end, duration, event count, entry and exit screen.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import orjson
from django.db import connection
from django.db.models import Count, Max, Min

from analytics.collection.envelope import PreparedEvent
from analytics.collection.pending import PendingEvent
from analytics.models import Session, SessionCursor, UserEvent

INACTIVITY = timedelta(minutes=30)
CAP = timedelta(hours=24)
_IN_CHUNK = 500


@dataclass
class _Open:
    session_id: str
    started_at: datetime
    last_event_at: datetime

    def takes(self, at: datetime) -> bool:
        start, last = min(self.started_at, at), max(self.last_event_at, at)
        return (self.started_at - INACTIVITY <= at <= self.last_event_at + INACTIVITY) and last - start < CAP

    def extend(self, at: datetime) -> None:
        self.started_at = min(self.started_at, at)
        self.last_event_at = max(self.last_event_at, at)


def actor_key(event: PreparedEvent) -> str | None:
    if event.anonymous_id:
        return f"a:{event.anonymous_id}"
    if event.user_id:
        return f"u:{event.user_id}"
    return None


def _new_session(actor: str, at: datetime) -> _Open:
    digest = hashlib.sha256(f"{actor}|{at.isoformat()}".encode()).hexdigest()[:24]
    return _Open(session_id=f"srv_{digest}", started_at=at, last_event_at=at)


def assign_sessions(events: Sequence[PreparedEvent]) -> list[PreparedEvent]:
    """`events` with a server-side `session_id` wherever the client sent none (and there is an actor).

    Runs inside the ingesting transaction; reads and advances the actors' `SessionCursor`s.
    """
    by_actor: dict[str, list[int]] = defaultdict(list)
    for position, event in enumerate(events):
        if event.session_id is None:
            key = actor_key(event)
            if key is not None:
                by_actor[key].append(position)
    if not by_actor:
        return list(events)
    cursors = _cursors_locked(sorted(by_actor))
    result = list(events)
    moved: dict[str, _Open] = {}
    for key, positions in by_actor.items():
        current = cursors.get(key)
        late: _Open | None = None
        for position in sorted(positions, key=lambda p: result[p].timestamp):
            at = result[position].timestamp
            if current is not None and current.takes(at):
                current.extend(at)
                chosen = current
            elif current is not None and at < current.started_at:
                if late is None or not late.takes(at):
                    late = _new_session(key, at)
                late.extend(at)
                chosen = late
            else:
                current = _new_session(key, at)
                chosen = current
            result[position] = replace(result[position], session_id=chosen.session_id)
        if current is not None:
            moved[key] = current
    _cursors_save(
        created={key: cursor for key, cursor in moved.items() if key not in cursors},
        changed={key: cursor for key, cursor in moved.items() if key in cursors},
    )
    return result


# PostgreSQL: the actor keys and cursors travel as one JSON parameter each. (Django's client-side binding quotes
# every element of a list or of a bulk insert in Python: ~4 ms a 1,000-event batch with the ORM.)
_CURSORS = SessionCursor._meta.db_table
_PG_LOCK = (
    f"SELECT actor_key, session_id, started_at, last_event_at FROM {_CURSORS} "  # noqa: S608 (the model's own table)
    "WHERE actor_key IN (SELECT jsonb_array_elements_text(%s::jsonb)) ORDER BY actor_key FOR UPDATE"
)
_PG_WRITE = (
    f"INSERT INTO {_CURSORS} (actor_key, session_id, started_at, last_event_at) "  # noqa: S608
    "SELECT actor_key, session_id, started_at, last_event_at FROM jsonb_to_recordset(%s::jsonb) "
    "AS r(actor_key text, session_id text, started_at timestamptz, last_event_at timestamptz) ORDER BY actor_key "
)
_PG_CREATE = _PG_WRITE + "ON CONFLICT (actor_key) DO NOTHING"
_PG_MOVE = (
    _PG_WRITE + "ON CONFLICT (actor_key) DO UPDATE SET session_id = EXCLUDED.session_id, "
    "started_at = EXCLUDED.started_at, last_event_at = EXCLUDED.last_event_at"
)


def _cursors_locked(keys: list[str]) -> dict[str, _Open]:
    """The open sessions of these actors, their rows locked (in key order) until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_LOCK, [orjson.dumps(keys).decode()])
            return {key: _Open(session_id, started, last) for key, session_id, started, last in cursor.fetchall()}
    query = SessionCursor.objects.filter(actor_key__in=keys).order_by("actor_key")
    if connection.features.has_select_for_update:
        query = query.select_for_update()
    return {row.actor_key: _Open(row.session_id, row.started_at, row.last_event_at) for row in query}


def _cursors_save(*, created: dict[str, _Open], changed: dict[str, _Open]) -> None:
    """New actors' cursors are inserted (one that a concurrent batch inserted first is left as it is); locked ones
    are moved."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for statement, cursors in ((_PG_CREATE, created), (_PG_MOVE, changed)):
                if cursors:
                    values = [
                        {
                            "actor_key": key,
                            "session_id": c.session_id,
                            "started_at": c.started_at,
                            "last_event_at": c.last_event_at,
                        }
                        for key, c in cursors.items()
                    ]
                    cursor.execute(statement, [orjson.dumps(values).decode()])
        return
    rows = {
        key: SessionCursor(
            actor_key=key, session_id=c.session_id, started_at=c.started_at, last_event_at=c.last_event_at
        )
        for key, c in (created | changed).items()
    }
    if created:
        SessionCursor.objects.bulk_create([rows[key] for key in created], batch_size=500, ignore_conflicts=True)
    if changed:
        # The rows exist and are locked by this transaction; one upsert rewrites them (`bulk_update` builds a CASE
        # expression per row and field).
        SessionCursor.objects.bulk_create(
            [rows[key] for key in changed],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["actor_key"],
            update_fields=["session_id", "started_at", "last_event_at"],
        )


def update_sessions(events: Sequence[PendingEvent]) -> None:
    """Recompute the `Session` rows of every session the chunk touched."""
    touched = sorted({e.session_id for e in events if e.session_id})
    for start in range(0, len(touched), _IN_CHUNK):
        session_summarise(session_ids=touched[start : start + _IN_CHUNK])


def session_summarise(*, session_ids: Sequence[str]) -> None:
    stored = UserEvent.objects.filter(session_id__in=list(session_ids))
    totals = {
        row["session_id"]: row
        for row in stored.values("session_id").annotate(
            first=Min("timestamp"),
            last=Max("timestamp"),
            events=Count("id"),
            user=Max("user_id"),
            anonymous=Max("anonymous_id"),
        )
    }
    screens: dict[str, list[str]] = {}
    for session_id, path in (
        stored.exclude(page_path="").order_by("session_id", "timestamp", "id").values_list("session_id", "page_path")
    ):
        if session_id is not None:
            screens.setdefault(session_id, []).append(path)
    rows = []
    for session_id, row in totals.items():
        paths = screens.get(session_id, [])
        rows.append(
            Session(
                session_id=session_id,
                user_id=row["user"],
                anonymous_id=row["anonymous"],
                started_at=row["first"],
                ended_at=row["last"],
                duration_seconds=(row["last"] - row["first"]).total_seconds(),
                event_count=row["events"],
                entry_screen=paths[0][:1024] if paths else "",
                exit_screen=paths[-1][:1024] if paths else "",
            )
        )
    # One upsert: concurrent workers touching the same session both write a full recomputation.
    Session.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["session_id"],
        update_fields=[
            "user_id",
            "anonymous_id",
            "started_at",
            "ended_at",
            "duration_seconds",
            "event_count",
            "entry_screen",
            "exit_screen",
        ],
    )
