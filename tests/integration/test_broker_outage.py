"""FAULT: the broker is unreachable while events arrive. Ingestion keeps answering 2xx and stores
everything; processing is only delayed — the worker and the beat-driven sweeper catch up once the
broker is back (docs/design.md, "Quality bars")."""

from __future__ import annotations

import time

from django.db.models import Count
from fastapi.testclient import TestClient

from analytics.models import UserEvent
from tests.integration.events import page_view
from tests.integration.proxy import TcpProxy
from tests.integration.support import ServiceProcess, wait_until

BATCH = "/api/analytics/events/batch"
HEALTH = "/api/analytics/health"
BATCHES, PER_BATCH = 10, 500
# Not a speed assertion: a request that takes this long is hanging on the dead broker.
HANG_SECONDS = 15.0


def test_events_ingested_while_the_broker_is_down_are_all_stored_and_processed_after_it_returns(
    client: TestClient,
    key_headers: dict[str, str],
    celery_worker: ServiceProcess,
    celery_beat: ServiceProcess,
    broker_down: TcpProxy,
) -> None:
    services = [celery_worker, celery_beat]
    broker_down.close()

    sent: set[str] = set()
    first_sent = time.monotonic()
    for number in range(BATCHES):
        events = [page_view(user_id=f"u-{number}-{i % 40}", path=f"/outage/{number}/{i}") for i in range(PER_BATCH)]
        sent.update(event["uuid"] for event in events)
        started = time.monotonic()
        response = client.post(BATCH, json={"events": events}, headers=key_headers)
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == PER_BATCH
        assert elapsed < HANG_SECONDS, f"batch {number} took {elapsed:.1f}s with the broker down"

    stored = UserEvent.objects.aggregate(rows=Count("id"), uuids=Count("uuid", distinct=True))
    assert stored == {"rows": BATCHES * PER_BATCH, "uuids": BATCHES * PER_BATCH}
    assert set(map(str, UserEvent.objects.values_list("uuid", flat=True))) == sent

    started = time.monotonic()
    response = client.get(HEALTH)
    assert time.monotonic() - started < HANG_SECONDS
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["checks"]["broker"]["status"] == "unreachable"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["status"] == "degraded"
    # Nothing can reach the worker while the broker is down: everything stored is still waiting.
    assert body["backlog"]["unprocessed_events"] == BATCHES * PER_BATCH
    # the first batch was received since `first_sent`: its age is at most the time since then
    assert 0 < body["backlog"]["oldest_unprocessed_age_seconds"] <= time.monotonic() - first_sent + 1

    broker_down.open()
    wait_until(
        lambda: not UserEvent.objects.filter(processed_at__isnull=True).exists(),
        timeout=90,
        interval=0.5,
        what="every event stored during the outage to be processed",
        alive=services,
    )
    assert UserEvent.objects.filter(processed_at__isnull=False).count() == BATCHES * PER_BATCH

    body = client.get(HEALTH).json()
    assert body["checks"]["broker"] == {"status": "ok", "mode": "broker"}
    assert body["backlog"]["unprocessed_events"] == 0
