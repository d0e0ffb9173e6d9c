"""The collection buffer: appends only on the caller's path, bulk writes through the pipeline,
bounded with counted overflow, and an analytics-store outage that delays events but loses none."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from prometheus_client import REGISTRY

from analytics.collection.buffer import EventBuffer, event_buffer
from analytics.models import FailedEvent, UserEvent
from tests.factories import event
from tests.hostapp.outage import analytics_store_down

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def make_buffer() -> Iterator[Callable[..., EventBuffer]]:
    made: list[EventBuffer] = []

    def make(*, capacity: int = 100, flush_interval: float = 60.0, batch_size: int = 50) -> EventBuffer:
        buffer = EventBuffer(capacity=capacity, flush_interval=flush_interval, batch_size=batch_size)
        made.append(buffer)
        return buffer

    yield make
    for buffer in made:
        buffer.close(timeout=5)


def dropped_metric(reason: str) -> float:
    return REGISTRY.get_sample_value("loopin_collection_buffer_dropped_total", {"reason": reason}) or 0.0


def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> bool:
    """Poll a condition the flusher thread makes true on its own (no flush() call)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_append_only_queues_and_flush_writes_through_the_pipeline(
    make_buffer: Callable[..., EventBuffer],
) -> None:
    buffer = make_buffer()
    raws = [event(), event(), event()]
    for raw in raws:
        assert buffer.append(raw, source="middleware") is True
    assert UserEvent.objects.count() == 0  # nothing written on the caller's path
    assert buffer.stats().pending == 3

    assert buffer.flush(timeout=10) is True
    stored = UserEvent.objects.order_by("id")
    assert [str(row.uuid) for row in stored] == [raw["uuid"] for raw in raws]
    assert {row.source for row in stored} == {"middleware"}
    assert buffer.stats().pending == 0
    assert buffer.stats().written == 3


def test_each_source_is_written_under_its_own_name(make_buffer: Callable[..., EventBuffer]) -> None:
    buffer = make_buffer()
    buffer.append(event(), source="middleware")
    buffer.append(event(), source="signal")
    buffer.append(event(), source="middleware")
    assert buffer.flush(timeout=10)
    assert sorted(UserEvent.objects.values_list("source", flat=True)) == [
        "middleware",
        "middleware",
        "signal",
    ]


def test_a_full_batch_is_written_without_waiting_for_the_interval(
    make_buffer: Callable[..., EventBuffer],
) -> None:
    buffer = make_buffer(batch_size=5, flush_interval=300.0)
    for _ in range(5):
        buffer.append(event(), source="signal")
    assert wait_until(lambda: UserEvent.objects.count() == 5)


def test_a_partial_batch_is_written_after_the_flush_interval(make_buffer: Callable[..., EventBuffer]) -> None:
    buffer = make_buffer(batch_size=1000, flush_interval=0.05)
    buffer.append(event(), source="signal")
    assert wait_until(lambda: UserEvent.objects.count() == 1)


def test_overflow_is_counted_never_blocking_and_the_rest_is_written(
    make_buffer: Callable[..., EventBuffer],
) -> None:
    buffer = make_buffer(capacity=3)
    before = dropped_metric("overflow")
    started = time.perf_counter()
    accepted = [buffer.append(event(), source="middleware") for _ in range(5)]
    assert time.perf_counter() - started < 1.0
    assert accepted == [True, True, True, False, False]
    assert buffer.dropped == 2
    assert buffer.stats().dropped_by_reason == {"overflow": 2}
    assert dropped_metric("overflow") - before == 2
    assert buffer.flush(timeout=10)
    assert UserEvent.objects.count() == 3


def test_outage_keeps_the_events_and_writes_them_once_after_it_ends(
    make_buffer: Callable[..., EventBuffer],
) -> None:
    buffer = make_buffer(capacity=10)
    raws = [event() for _ in range(4)]
    with analytics_store_down():
        for raw in raws:
            assert buffer.append(raw, source="signal")
        assert buffer.flush(timeout=5) is False  # the write failed; nothing raised here
        stats = buffer.stats()
        assert stats.pending == 4
        assert stats.consecutive_failures >= 1
        assert stats.last_error == "OperationalError"
        assert stats.dropped == 0
    assert buffer.flush(timeout=10) is True
    assert sorted(str(u) for u in UserEvent.objects.values_list("uuid", flat=True)) == sorted(r["uuid"] for r in raws)
    assert buffer.stats().consecutive_failures == 0


def test_overflow_during_an_outage_is_counted_and_the_kept_events_arrive_later(
    make_buffer: Callable[..., EventBuffer],
) -> None:
    buffer = make_buffer(capacity=3)
    with analytics_store_down():
        accepted = [buffer.append(event(), source="middleware") for _ in range(5)]
        buffer.flush(timeout=2)
    assert accepted.count(True) == 3
    assert buffer.stats().dropped_by_reason == {"overflow": 2}
    assert buffer.flush(timeout=10)
    assert UserEvent.objects.count() == 3


def test_events_the_pipeline_refuses_are_quarantined_not_lost(
    make_buffer: Callable[..., EventBuffer],
) -> None:
    buffer = make_buffer()
    buffer.append({"event_name": "api_request", "properties": {"method": "GET"}}, source="middleware")
    assert buffer.flush(timeout=10)
    assert UserEvent.objects.count() == 0
    failed = FailedEvent.objects.get()
    assert (failed.source, failed.reason) == ("middleware", "invalid_property")


def test_close_writes_what_is_left_and_later_appends_are_counted(
    make_buffer: Callable[..., EventBuffer],
) -> None:
    buffer = make_buffer()
    buffer.append(event(), source="signal")
    assert buffer.close(timeout=10) is True
    assert UserEvent.objects.count() == 1
    assert buffer.append(event(), source="signal") is False
    assert buffer.stats().dropped_by_reason == {"shutdown": 1}


def test_process_buffer_is_sized_by_the_settings() -> None:
    buffer = event_buffer()
    assert buffer is event_buffer()
    assert buffer.capacity == settings.ANALYTICS_BUFFER_SIZE
    assert buffer.flush_interval == settings.ANALYTICS_BUFFER_FLUSH_SECONDS
    assert buffer.batch_size == settings.ANALYTICS_BATCH_SIZE


@pytest.mark.parametrize("raw", [{"event_name": "x"}, event()])
def test_flush_of_an_empty_or_drained_buffer_returns_at_once(
    make_buffer: Callable[..., EventBuffer], raw: dict[str, Any]
) -> None:
    buffer = make_buffer()
    assert buffer.flush(timeout=0.01) is True
    buffer.append(raw, source="signal")
    assert buffer.flush(timeout=10) is True
    started = time.perf_counter()
    assert buffer.flush(timeout=10) is True
    assert time.perf_counter() - started < 1.0
