"""PostHog forwarding against a local server speaking PostHog's capture protocol (real HTTP).

What is protected: every stored event reaches PostHog exactly once — with its uuid, name, distinct
id and the stored (scrubbed) properties, never an e-mail, phone number or IP — nothing at all when
the key is unset, never an opted-out user's event, and nothing lost or sent twice across an outage.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as project_settings
from django.db import connection
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.envelope import RequestContext
from analytics.collection.forwarding import (
    BACKOFF_MAX_SECONDS,
    posthog_forward,
    posthog_outbox_add,
)
from analytics.collection.pending import PENDING_COLUMNS, PendingEvent
from analytics.collection.pipeline import event_ingest
from analytics.collection.processing import process_pending_events
from analytics.models import ForwardingOutbox, UserConsent, UserEvent
from analytics.operations.health import health_report
from analytics.tasks import forward_to_posthog
from analytics.tasks.schedule import beat_schedule
from tests.factories import SAFARI_ON_IPHONE, event, payment_event
from tests.support.posthog_server import PostHogCaptureServer

KEY = "phc_local_test_project_key"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
EMAIL = "priya.sharma@example.com"
PHONE = "+91 98765 43210"
CLIENT_IP = "203.0.113.77"

LEASE = project_settings.ANALYTICS_DELIVERY_LEASE_SECONDS  # how long a claimed row is leased (300 s)


@pytest.fixture
def now() -> Iterator[datetime]:
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


@pytest.fixture
def posthog(settings: Any, now: datetime) -> Iterator[PostHogCaptureServer]:
    with PostHogCaptureServer(api_key=KEY) as server:
        settings.POSTHOG_API_KEY = KEY
        settings.POSTHOG_HOST = server.url
        yield server


def store(*raws: dict[str, Any]) -> list[str]:
    """Ingest through the one pipeline and process (which fills the outbox); returns the uuids."""
    result = event_ingest(
        batch=list(raws), source="tracker", request=RequestContext(received_at=NOW, ip_prefix="198.51.100.0")
    )
    assert result.stored == len(raws), result.outcomes
    process_pending_events()
    return [str(outcome.uuid) for outcome in result.outcomes]


def store_unsent(server: PostHogCaptureServer, *raws: dict[str, Any]) -> list[str]:
    """`store` when ingest commits for real: the embedded chain forwards at once, so PostHog answers
    503 meanwhile; the rows are then due again and nothing has been accepted yet."""
    server.fail_with(503)
    uuids = store(*raws)
    assert ForwardingOutbox.objects.filter(attempts=1).count() == len(raws)  # the eager chain tried
    server.recover()
    server.clear()
    later(BACKOFF_MAX_SECONDS)
    return uuids


def later(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


def assert_each_once(server: PostHogCaptureServer, uuids: list[str]) -> None:
    counts = Counter(e["uuid"] for e in server.events())
    assert counts == Counter(uuids), counts


@pytest.mark.django_db
def test_every_stored_event_arrives_once_with_its_distinct_id_uuid_name_and_properties(
    posthog: PostHogCaptureServer,
) -> None:
    viewed = event(
        event_name="event_viewed",
        user_id="user-1",
        session_id="sess-1",
        properties={"listing_id": "L1", "note": f"mail {EMAIL} or call {PHONE}", "$ip": "198.51.100.0"},
        context={
            "ip": CLIENT_IP,
            "user_agent": SAFARI_ON_IPHONE,
            "page": {"url": "https://loopin.app/events/L1", "path": "/events/L1"},
            "location": {"city": "Pune", "country": "IN"},
        },
    )
    anonymous = event(event_name="page_view", user_id=None, anonymous_id="anon-7", properties={"path": "/"})
    nobody = event(event_name="app_error", user_id=None, properties={"error_type": "Timeout"})
    paid = payment_event(amount=499.0, currency="INR")
    uuids = store(viewed, anonymous, nobody, paid)

    result = posthog_forward()

    assert (result.sent, result.failed, result.batches) == (4, 0, 1)
    assert_each_once(posthog, uuids)
    by_uuid = {e["uuid"]: e for e in posthog.events()}
    stored = {str(row.uuid): row for row in UserEvent.objects.all()}

    first = by_uuid[uuids[0]]
    assert (first["event"], first["distinct_id"]) == ("event_viewed", "user-1")
    assert first["timestamp"] == stored[uuids[0]].timestamp.isoformat()
    props = first["properties"]
    assert props["listing_id"] == "L1"
    assert props["note"] == "mail [email] or call [phone]"  # the stored, scrubbed value
    assert props["$session_id"] == "sess-1"
    assert props["$current_url"] == "https://loopin.app/events/L1"
    assert props["$pathname"] == "/events/L1"
    row = stored[uuids[0]]
    assert (props["$device_type"], props["$os"], props["$browser"]) == ("Mobile", row.os, row.browser)
    assert row.os.startswith("iOS") and row.browser.startswith("Mobile Safari")
    assert (props["$geoip_city_name"], props["$geoip_country_code"]) == ("Pune", "IN")
    assert props["$geoip_disable"] is True
    assert props["loopin_event_type"] == "page_view" and props["loopin_source"] == "tracker"
    assert "$ip" not in props

    assert by_uuid[uuids[1]]["distinct_id"] == "anon-7"
    assert "$process_person_profile" not in by_uuid[uuids[1]]["properties"]
    # Neither id: the event's own uuid, personless, so unrelated events never merge into a person.
    assert by_uuid[uuids[2]]["distinct_id"] == uuids[2]
    assert by_uuid[uuids[2]]["properties"]["$process_person_profile"] is False
    revenue = by_uuid[uuids[3]]["properties"]
    assert (revenue["revenue"], revenue["currency"], revenue["order_id"]) == (499.0, "INR", "ord-1")

    (request,) = posthog.accepted_requests()
    assert request.path == "/batch/" and request.gzipped and request.body["api_key"] == KEY
    wire = request.raw_body.decode()
    for secret in (EMAIL, "98765", CLIENT_IP, "203.0.113", "198.51.100"):
        assert secret not in wire
    assert ForwardingOutbox.objects.count() == 0


@pytest.mark.django_db
def test_nothing_is_sent_and_no_outbox_row_is_written_when_the_key_is_unset(
    posthog: PostHogCaptureServer, settings: Any
) -> None:
    settings.POSTHOG_API_KEY = ""
    store(event(), event())

    assert ForwardingOutbox.objects.count() == 0
    assert posthog_forward().batches == 0
    assert forward_to_posthog.apply().get() == 0
    assert posthog.requests() == []


@pytest.mark.django_db
def test_events_of_a_user_who_opted_out_after_storage_are_never_sent(posthog: PostHogCaptureServer) -> None:
    kept = store(event(user_id="user-1"), event(user_id="user-1"))
    withdrawn = store(
        event(user_id="user-2"), event(user_id="user-2", event_name="page_view", properties={"path": "/"})
    )
    UserConsent.objects.create(user_id="user-2", analytics_opt_out=True, updated_at=NOW)

    result = posthog_forward()

    assert (result.sent, result.skipped_opted_out) == (2, 2)
    assert_each_once(posthog, kept)
    assert not set(withdrawn) & {e["uuid"] for e in posthog.events()}
    assert "user-2" not in "".join(r.raw_body.decode() for r in posthog.requests())
    assert ForwardingOutbox.objects.count() == 0  # withdrawn for good, not retried


@pytest.mark.django_db
def test_a_user_opted_out_at_the_door_is_neither_stored_nor_sent(posthog: PostHogCaptureServer) -> None:
    UserConsent.objects.create(user_id="user-9", analytics_opt_out=True, updated_at=NOW)
    result = event_ingest(batch=[event(user_id="user-9")], source="tracker", request=RequestContext(received_at=NOW))
    process_pending_events()
    posthog_forward()
    assert result.dropped == 1
    assert posthog.requests() == [] and ForwardingOutbox.objects.count() == 0


@pytest.mark.django_db
def test_posthog_unreachable_keeps_every_row_and_each_event_arrives_once_after_it_returns(
    posthog: PostHogCaptureServer,
) -> None:
    uuids = store(*(event() for _ in range(5)))
    posthog.stop()  # connection refused

    down = posthog_forward(batch_size=2)

    assert (down.sent, down.failed, down.batches) == (0, 2, 1)  # the run stops at the first failure
    assert ForwardingOutbox.objects.count() == 5
    failed = ForwardingOutbox.objects.filter(attempts=1)
    assert failed.count() == 2
    assert all(row.next_attempt_at > NOW and row.last_error == "ConnectionError" for row in failed)
    # Runs meanwhile try only rows not yet backing off; then there is nothing due to try at all.
    assert posthog_forward(batch_size=2).failed == 2
    assert posthog_forward(batch_size=2).failed == 1
    assert ForwardingOutbox.objects.filter(attempts=1).count() == 5
    assert posthog_forward(batch_size=2).batches == 0

    posthog.start()  # same port
    later(BACKOFF_MAX_SECONDS)
    back = posthog_forward(batch_size=2)

    assert back.sent == 5
    assert_each_once(posthog, uuids)
    assert ForwardingOutbox.objects.count() == 0
    assert posthog_forward().batches == 0


@pytest.mark.django_db
def test_posthog_answering_503_loses_nothing_and_sends_nothing_twice(posthog: PostHogCaptureServer) -> None:
    uuids = store(*(event() for _ in range(7)))
    assert posthog_forward(batch_size=3, max_batches=1).sent == 3  # the first batch gets through
    posthog.fail_with(503, retry_after="120")

    down = posthog_forward(batch_size=3)

    assert (down.sent, down.failed) == (0, 3)
    assert [r.status for r in posthog.requests()] == [200, 503]
    assert ForwardingOutbox.objects.count() == 4
    retrying = ForwardingOutbox.objects.filter(attempts=1)
    assert retrying.count() == 3
    assert all(row.next_attempt_at >= NOW + timedelta(seconds=120) for row in retrying)  # Retry-After held

    posthog.recover()
    later(BACKOFF_MAX_SECONDS)
    assert posthog_forward(batch_size=3).sent == 4

    assert_each_once(posthog, uuids)  # the 503'd batch once, the first batch not again
    assert ForwardingOutbox.objects.count() == 0


@pytest.mark.django_db
def test_batches_respect_the_batch_size(posthog: PostHogCaptureServer) -> None:
    uuids = store(*(event() for _ in range(7)))

    result = posthog_forward(batch_size=3)

    assert (result.sent, result.batches) == (7, 3)
    assert [len(r.events) for r in posthog.accepted_requests()] == [3, 3, 1]
    assert_each_once(posthog, uuids)
    # Oldest stored first.
    assert [e["uuid"] for e in posthog.events()] == [
        str(u) for u in UserEvent.objects.order_by("id").values_list("uuid", flat=True)
    ]


@pytest.mark.django_db
def test_a_run_is_bounded_and_the_next_run_continues(posthog: PostHogCaptureServer) -> None:
    uuids = store(*(event() for _ in range(7)))

    assert posthog_forward(batch_size=3, max_batches=2).sent == 6
    assert ForwardingOutbox.objects.count() == 1
    assert posthog_forward(batch_size=3, max_batches=2).sent == 1

    assert_each_once(posthog, uuids)


@pytest.mark.django_db
def test_an_event_posthog_refuses_is_parked_and_the_rest_of_its_batch_delivered(
    posthog: PostHogCaptureServer,
) -> None:
    uuids = store(*(event() for _ in range(2)), event(event_name="poison"), *(event() for _ in range(3)))
    posthog.refuse_events(lambda e: e["event"] == "poison")

    result = posthog_forward(batch_size=10)

    assert (result.sent, result.parked, result.failed) == (5, 1, 0)
    assert_each_once(posthog, [u for i, u in enumerate(uuids) if i != 2])
    parked = ForwardingOutbox.objects.get()
    assert str(parked.event.uuid) == uuids[2]
    assert parked.parked_at == NOW and parked.last_error == "http_400"
    later(BACKOFF_MAX_SECONDS * 2)
    assert posthog_forward().batches == 0  # parked rows are not retried by themselves
    assert health_report().body["integrations"]["posthog"]["outbox_parked"] == 1


@pytest.mark.django_db
def test_health_reports_the_outbox_backlog(posthog: PostHogCaptureServer) -> None:
    store(*(event() for _ in range(3)))
    posthog.stop()
    posthog_forward(batch_size=2, max_batches=1)
    later(30)

    report = health_report().body["integrations"]["posthog"]

    assert report["configured"] is True
    assert (report["outbox_pending"], report["outbox_retrying"], report["outbox_parked"]) == (3, 2, 0)
    assert report["oldest_pending_age_seconds"] == 30.0


@pytest.mark.django_db
def test_seeing_a_chunk_again_adds_no_second_outbox_row(posthog: PostHogCaptureServer) -> None:
    event_ingest(batch=[event(), event()], source="tracker", request=RequestContext(received_at=NOW))
    chunk = [PendingEvent(*row) for row in UserEvent.objects.values_list(*PENDING_COLUMNS)]

    posthog_outbox_add(chunk)
    posthog_outbox_add(chunk)

    assert ForwardingOutbox.objects.count() == 2


@pytest.mark.django_db
def test_deleting_a_stored_event_withdraws_it_from_the_outbox(posthog: PostHogCaptureServer) -> None:
    gone, kept = store(event(), event())
    UserEvent.objects.filter(uuid=gone).delete()  # retention purge or erasure

    posthog_forward()

    assert_each_once(posthog, [kept])


@pytest.mark.django_db(transaction=True)
def test_a_batch_in_flight_is_not_sent_again_by_a_concurrent_run(posthog: PostHogCaptureServer) -> None:
    uuids = store_unsent(posthog, *(event() for _ in range(3)))
    posthog.pause()  # the first run's POST is held unanswered
    outcome: dict[str, int] = {}
    first = threading.Thread(target=lambda: outcome.update(sent=posthog_forward().sent))
    first.start()
    try:
        assert posthog.wait_for_requests(1)
        assert posthog_forward().batches == 0  # the rows are leased to the first run
    finally:
        posthog.resume()
        first.join(timeout=30)

    assert outcome == {"sent": 3}
    assert_each_once(posthog, uuids)
    assert len(posthog.requests()) == 1


@pytest.mark.django_db(transaction=True)
def test_a_lease_left_by_a_dead_worker_runs_out_and_the_rows_are_sent(posthog: PostHogCaptureServer) -> None:
    uuids = store_unsent(posthog, event(), event())
    # A worker claimed the rows and died before answering: only the lease remains.
    ForwardingOutbox.objects.update(next_attempt_at=clock.now() + timedelta(seconds=LEASE))
    assert posthog_forward().batches == 0

    later(LEASE)
    assert posthog_forward().sent == 2
    assert_each_once(posthog, uuids)


def test_tracked_event_over_http_reaches_posthog_through_the_task_in_embedded_mode(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    """Ingest commits → process_new_events → outbox → forward_to_posthog, all in-process (eager)."""
    body = event(event_name="search_performed", properties={"results_count": 3, "query": f"jazz {EMAIL}"})

    response = client.post("/api/analytics/events/track", json=body, headers=key_headers)

    assert response.json()["status"] == "stored"
    (sent,) = posthog.events()
    assert (sent["uuid"], sent["event"], sent["distinct_id"]) == (body["uuid"], "search_performed", "user-1")
    assert EMAIL not in posthog.accepted_requests()[0].raw_body.decode()
    assert ForwardingOutbox.objects.count() == 0


def test_forward_task_is_late_acked_time_limited_within_the_lease_and_scheduled() -> None:
    assert forward_to_posthog.acks_late is True
    assert forward_to_posthog.time_limit is not None and forward_to_posthog.time_limit < LEASE
    entry = beat_schedule()["forward-to-posthog"]
    assert entry["task"] == forward_to_posthog.name
    assert entry["options"]["queue"] == "default"
    assert 10 <= entry["schedule"] <= 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_each_with_its_own_connection_send_every_row_exactly_once(
    posthog: PostHogCaptureServer,
) -> None:
    """Four runs at once, each in its own thread with its own database connection, drain one outbox. On
    PostgreSQL (the `postgresql` tier runs this module there) the claims are `FOR UPDATE SKIP LOCKED`: no
    row sent twice, none left behind, and more than one run did the work; SQLite serialises the writers and
    must give the same answer."""
    runs, events, batch = 4, 240, 10
    uuids = store_unsent(posthog, *(event(user_id=f"u{i % 9}") for i in range(events)))
    start = threading.Barrier(runs)
    sent_by = [0] * runs
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            while True:
                result = posthog_forward(batch_size=batch, max_batches=1)
                sent_by[index] += result.sent
                if result.batches == 0:
                    break
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(sent_by) == events
    assert_each_once(posthog, uuids)
    assert not ForwardingOutbox.objects.exists()
    if connection.vendor == "postgresql":  # the runs really overlapped
        assert sum(1 for n in sent_by if n) >= 2, sent_by
