"""Ingestion on the real PostgreSQL: exact de-duplication, also under concurrent writers."""

from __future__ import annotations

import random
import threading
import uuid as uuid_lib
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Count
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.envelope import RequestContext, prepare_event
from analytics.collection.pipeline import IngestResult, event_ingest
from analytics.collection.storage import insert_new_events
from analytics.models import FailedEvent, UserEvent
from analytics.models.events import EventSource
from tests.integration.events import page_view

BATCH = "/api/analytics/events/batch"
T = TypeVar("T")


def test_batch_with_replays_and_conflicts_gives_exact_counts_on_postgresql(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    a, b, c, d = (str(uuid_lib.uuid4()) for _ in range(4))
    first = [
        page_view(a, path="/a"),
        page_view(b, path="/b"),
        page_view(a, path="/a"),  # same uuid, same payload: a duplicate
        page_view(b, path="/other"),  # same uuid, different payload: a conflict
        {"properties": {"path": "/no-name"}},  # invalid: no event_name
        page_view(c, path="/c"),
    ]
    response = client.post(BATCH, json={"events": first}, headers=key_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stored"], body["duplicates"], body["rejected"], body["dropped"]) == (3, 1, 2, 0)
    assert [r["status"] for r in body["results"]] == [
        "stored",
        "stored",
        "duplicate",
        "rejected",
        "rejected",
        "stored",
    ]
    assert [r["reason"] for r in body["results"]][3:5] == ["uuid_conflict", "missing_field"]

    replay = [
        page_view(a, path="/a"),
        page_view(c, path="/changed"),
        page_view(d, path="/d"),
        page_view(d, path="/d"),
    ]
    response = client.post(BATCH, json={"events": replay}, headers=key_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (1, 2, 1)
    assert [r["status"] for r in body["results"]] == ["duplicate", "rejected", "stored", "duplicate"]
    assert body["results"][1]["reason"] == "uuid_conflict"

    stored = dict(UserEvent.objects.values_list("uuid", "page_path"))
    assert {str(u): p for u, p in stored.items()} == {a: "/a", b: "/b", c: "/c", d: "/d"}
    quarantined = Counter(FailedEvent.objects.values_list("reason", flat=True))
    assert quarantined == {"uuid_conflict": 2, "missing_field": 1}


def _run_together(count: int, work: Callable[[int, Callable[[], object]], T]) -> list[T | BaseException]:
    """`work(position, start)` in `count` threads, each with its own connection; each calls `start()` where the
    threads must go on together. What each returned, or raised."""
    results: list[T | BaseException] = [RuntimeError("did not run")] * count
    barrier = threading.Barrier(count)

    def run(position: int) -> None:
        try:
            results[position] = work(position, lambda: barrier.wait(timeout=30))
        except BaseException as exc:
            results[position] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writing thread hung"
    return results


def _ingest_in_threads(batches: list[list[dict[str, Any]]]) -> list[IngestResult | BaseException]:
    """Each batch from its own thread (own connection, own transaction), started together."""

    def ingest(position: int, start: Callable[[], object]) -> IngestResult:
        start()
        return event_ingest(batch=batches[position], source=EventSource.HTTP)

    return _run_together(len(batches), ingest)


def test_concurrent_batches_with_overlapping_uuids_store_each_uuid_exactly_once(
    transactional_db: None,
) -> None:
    rng = random.Random(20260310)
    every_uuid: set[str] = set()
    for round_number in range(3):
        pool = [
            page_view(str(uuid_lib.uuid4()), user_id=f"u-{i % 50}", path=f"/p/{round_number}/{i}") for i in range(800)
        ]
        batches = []
        for _ in range(4):
            batch = [dict(event) for event in rng.sample(pool, 500)]
            rng.shuffle(batch)  # every writer meets the shared uuids in its own order
            batches.append(batch)
        results = _ingest_in_threads(batches)

        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, f"round {round_number}: concurrent ingestion failed: {errors!r}"
        outcomes = [r for r in results if isinstance(r, IngestResult)]
        sent = sum(len(batch) for batch in batches)
        distinct = {event["uuid"] for batch in batches for event in batch}
        every_uuid |= distinct
        assert sum(r.stored for r in outcomes) == len(distinct)
        assert sum(r.duplicates for r in outcomes) == sent - len(distinct)
        assert sum(r.rejected + r.dropped for r in outcomes) == 0

    rows = UserEvent.objects.aggregate(rows=Count("id"), uuids=Count("uuid", distinct=True))
    assert rows == {"rows": len(every_uuid), "uuids": len(every_uuid)}
    assert FailedEvent.objects.count() == 0


def test_two_batches_sharing_every_uuid_in_opposite_orders_wait_for_each_other_instead_of_deadlocking(
    transactional_db: None,
) -> None:
    """A batch is copied into the table in uuid order, so two writers that share uuids take their index locks
    in one order: the second waits for the first, finds its uuids stored, and stores none of them again.
    Copied as given (one forwards, one backwards) they would meet in the middle and deadlock."""
    request = RequestContext(received_at=clock.now())
    events = [prepare_event(page_view(path=f"/d/{i}"), source=EventSource.HTTP, request=request) for i in range(2000)]
    batches = [events, events[::-1]]

    def copy(position: int, start: Callable[[], object]) -> set[uuid_lib.UUID]:
        with transaction.atomic():
            start()  # both transactions copy at once
            return insert_new_events(batches[position])

    inserted = _run_together(len(batches), copy)
    errors = [result for result in inserted if isinstance(result, BaseException)]
    assert not errors, f"a writer failed: {errors!r}"
    first, second = (result for result in inserted if isinstance(result, set))
    assert first | second == {event.uuid for event in events}
    assert not first & second
    assert UserEvent.objects.count() == len(events)
