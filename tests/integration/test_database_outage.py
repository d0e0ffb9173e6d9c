"""FAULT: the database is unreachable. The real server (uvicorn) answers 503 + Retry-After in the
error shape instead of hanging or answering 500, stores nothing half-way, and recovers by itself
when the database returns (no restart) — at the first request, however long the outage lasted."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable

import httpx
from django.conf import settings

from analytics.models import FailedEvent, UserEvent
from analytics.security.api_keys import api_key_create
from tests.integration.events import page_view
from tests.integration.proxy import TcpProxy

TRACK = "/api/analytics/events/track"
BATCH = "/api/analytics/events/batch"
HEALTH = "/api/analytics/health"
# Not a speed assertion: a request that takes this long is hanging on the dead database.
HANG_SECONDS = 15.0
# How long the outage lasts after its first refused request. The pool's reconnection attempts back off (1, 2,
# 4, 8 s …): after 9 s an unbounded backoff would put its next attempt past a request's 5 s wait, and the
# first request after the database returns would still get 503.
OUTAGE_SECONDS = 9.0


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit() and int(response.headers["retry-after"]) > 0
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "database_unavailable"
    assert error["message"]


def test_database_outage_answers_503_with_retry_after_and_recovers_without_restart(
    transactional_db: None,
    database_proxy: TcpProxy,
    database_proxy_url: str,
    uvicorn_server: Callable[..., str],
) -> None:
    key = api_key_create(name="db-outage").key  # committed: the server reads it through the proxy
    base_url = uvicorn_server(DATABASE_URL=database_proxy_url, CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base_url, timeout=HANG_SECONDS) as http:
        before = page_view(path="/before")
        assert http.post(TRACK, json=before, headers=headers).json() == {
            "uuid": before["uuid"],
            "status": "stored",
        }
        assert database_proxy.accepted > 0  # the server really reaches the database through the proxy
        assert http.get(HEALTH).status_code == 200

        database_proxy.close()
        during = page_view(path="/during")
        _assert_unavailable(http.post(TRACK, json=during, headers=headers))
        _assert_unavailable(http.post(BATCH, json={"events": [page_view(), page_view()]}, headers=headers))
        health = http.get(HEALTH)
        assert health.status_code == 503, health.text
        assert health.json()["status"] == "unavailable"
        assert health.json()["checks"]["database"]["status"] == "unreachable"
        assert set(map(str, UserEvent.objects.values_list("uuid", flat=True))) == {before["uuid"]}
        time.sleep(OUTAGE_SECONDS)

        database_proxy.open()
        response = http.post(TRACK, json=during, headers=headers)  # the client's retry, at once
        assert response.status_code == 200, response.text
        assert response.json() == {"uuid": during["uuid"], "status": "stored"}
        assert http.post(TRACK, json=during, headers=headers).json()["status"] == "duplicate"
        assert http.get(HEALTH).status_code == 200

    stored = sorted(UserEvent.objects.values_list("page_path", flat=True))
    assert stored == ["/before", "/during"]
    assert FailedEvent.objects.count() == 0


def test_database_that_accepts_but_never_answers_gets_503_within_the_connect_timeout(
    transactional_db: None,
    database_proxy: TcpProxy,
    database_proxy_url: str,
    uvicorn_server: Callable[..., str],
) -> None:
    """A hung database (TCP accepted, no answer) must not hang concurrent senders: each gets a 503
    once the connect timeout (settings: connect_timeout=5) runs out, and nothing is stored."""
    key = api_key_create(name="db-stall").key
    base_url = uvicorn_server(DATABASE_URL=database_proxy_url, CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    database_proxy.stall()
    with httpx.Client(base_url=base_url, timeout=HANG_SECONDS, limits=httpx.Limits(max_connections=6)) as http:

        def send(_: int) -> float:
            started = time.monotonic()
            _assert_unavailable(http.post(TRACK, json=page_view(), headers={"X-API-Key": key}))
            return time.monotonic() - started

        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            waited = list(pool.map(send, range(6)))
        # The senders reached the hung database (through the pool's connection attempts: with a pool, six
        # waiting requests share its attempts instead of each opening a connection of its own).
        assert database_proxy.accepted >= 1
        health = http.get(HEALTH)
        assert health.status_code == 503
        assert health.json()["checks"]["database"]["status"] == "unreachable"

        database_proxy.open()
        event = page_view(path="/after-stall")
        assert http.post(TRACK, json=event, headers={"X-API-Key": key}).json()["status"] == "stored"
    assert all(seconds < HANG_SECONDS for seconds in waited), waited
    assert list(UserEvent.objects.values_list("page_path", flat=True)) == ["/after-stall"]


def test_the_database_cut_under_concurrent_ingestion_loses_nothing_acknowledged_and_stores_nothing_twice(
    transactional_db: None,
    database_proxy: TcpProxy,
    database_proxy_url: str,
    uvicorn_server: Callable[..., str],
) -> None:
    """Four clients send batches without pause through the real server while the database is cut for a few
    seconds and comes back. Each client retries a refused batch (503 + Retry-After) until it is stored, as the
    tracker does. Whatever was acknowledged is stored, nothing is stored twice, and the server recovers
    without a restart."""
    key = api_key_create(name="db-cut-under-load").key
    base_url = uvicorn_server(DATABASE_URL=database_proxy_url, CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    clients, per_batch = 4, 200
    refused: list[int] = []
    acknowledged: list[str] = []
    stop = threading.Event()

    def client_run(number: int) -> None:
        with httpx.Client(base_url=base_url, timeout=HANG_SECONDS) as http:
            batch = 0
            while not stop.is_set():
                events = [page_view(path=f"/load/{number}/{batch}/{i}") for i in range(per_batch)]
                while True:  # the tracker's retry: the same events (same uuids) until stored
                    response = http.post(BATCH, json={"events": events}, headers={"X-API-Key": key})
                    if response.status_code == 200:
                        body = response.json()
                        assert body["stored"] + body["duplicates"] == per_batch, body
                        acknowledged.extend(event["uuid"] for event in events)
                        break
                    _assert_unavailable(response)
                    refused.append(number)
                    time.sleep(0.2)
                batch += 1

    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        running = [pool.submit(client_run, n) for n in range(clients)]
        time.sleep(1.0)  # under load
        before_cut = len(acknowledged)
        database_proxy.close()
        time.sleep(3.0)  # the database is away
        database_proxy.open()
        time.sleep(2.0)  # recovered, still under load
        stop.set()
        for future in running:
            future.result(timeout=300)

    assert before_cut > 0 and refused, (before_cut, len(refused))  # load before the cut, refusals during it
    stored = list(map(str, UserEvent.objects.values_list("uuid", flat=True)))
    assert len(stored) == len(set(stored))  # nothing stored twice
    assert set(stored) == set(acknowledged)  # everything acknowledged stored, nothing unacknowledged
    assert len(acknowledged) > before_cut  # ingestion went on after the database came back
    assert FailedEvent.objects.count() == 0
