"""A real Celery worker process picks up what ingestion stored (enqueued on commit via Redis)."""

from __future__ import annotations

import time
import uuid as uuid_lib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from analytics.models import EventListing, UserEvent
from tests.integration.events import listing_created, page_view
from tests.integration.support import ServiceProcess, wait_until

TRACK = "/api/analytics/events/track"
BATCH = "/api/analytics/events/batch"
HEALTH = "/api/analytics/health"


def test_worker_processes_a_tracked_event_and_builds_its_listing(
    client: TestClient, key_headers: dict[str, str], celery_worker: ServiceProcess, enqueue_after_commit: None
) -> None:
    listing_id = f"L-{uuid_lib.uuid4().hex[:8]}"
    event = listing_created(listing_id)
    response = client.post(TRACK, json=event, headers=key_headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stored"

    processed_at = wait_until(
        lambda: UserEvent.objects.filter(uuid=event["uuid"]).values_list("processed_at", flat=True).first(),
        timeout=30,
        what="the worker to process the tracked event",
        alive=[celery_worker],
    )
    assert processed_at is not None
    listing = EventListing.objects.get(listing_id=listing_id)
    assert (listing.host_id, listing.category, listing.city, listing.currency, listing.capacity) == (
        "h-7",
        "music",
        "Bengaluru",
        "INR",
        40,
    )
    assert listing.price == Decimal("499.50")
    assert listing.starts_at == datetime(2026, 4, 1, 13, 0, tzinfo=UTC)
    assert listing.created_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert listing.status == "active"


def test_health_reports_the_live_worker_the_broker_and_the_backlog(
    client: TestClient, key_headers: dict[str, str], celery_worker: ServiceProcess, enqueue_after_commit: None
) -> None:
    def health() -> dict:
        response = client.get(HEALTH)
        assert response.status_code == 200, response.text
        return response.json()

    # The table of heartbeats is emptied between tests; the worker writes its row again each second.
    body = wait_until(
        lambda: (b := health())["checks"]["workers"]["alive"] >= 1 and b,
        timeout=30,
        what="health to see the worker",
        alive=[celery_worker],
    )
    assert body["mode"] == "production"
    assert body["checks"]["workers"]["status"] == "ok"
    assert [w["hostname"].split("@")[0] for w in body["checks"]["workers"]["workers"]] == ["itest-worker"]
    assert body["checks"]["broker"] == {"status": "ok", "mode": "broker"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["backlog"] == {"unprocessed_events": 0, "oldest_unprocessed_age_seconds": None}
    assert body["status"] == "ok"

    response = client.post(BATCH, json={"events": [page_view() for _ in range(25)]}, headers=key_headers)
    assert response.json()["stored"] == 25
    assert UserEvent.objects.count() == 25
    wait_until(
        lambda: health()["backlog"]["unprocessed_events"] == 0,
        timeout=30,
        what="the backlog reported by health to drain",
        alive=[celery_worker],
    )
    assert not UserEvent.objects.filter(processed_at__isnull=True).exists()


def test_a_task_sent_by_its_documented_flat_name_runs_on_the_worker(
    client: TestClient, key_headers: dict[str, str], celery_worker: ServiceProcess, monkeypatch: Any
) -> None:
    """`send_task("analytics.tasks.process_user_events_batch")`, as the documentation names event processing:
    routed to the ingest queue and run by the real worker."""
    from analytics.tasks import dispatch
    from loopin_backend.celery import app

    # Ingestion publishes nothing for these rows (the publisher's own back-off after a broker outage).
    monkeypatch.setattr(dispatch, "_skip_until", time.monotonic() + 600)
    response = client.post(BATCH, json={"events": [page_view() for _ in range(5)]}, headers=key_headers)
    assert response.json()["stored"] == 5
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 5

    app.send_task("analytics.tasks.process_user_events_batch")
    wait_until(
        lambda: not UserEvent.objects.filter(processed_at__isnull=True).exists(),
        timeout=30,
        what="the worker to run the task sent by its flat name",
        alive=[celery_worker],
    )
