"""Subject requests on PostgreSQL (privacy issue, "Tests that attack each promise"): the export holds the
person and nobody else, and after erasure a raw scan of every text and JSON column of every table finds
neither their ids nor what they wrote — the JSON lookups into quarantined payloads and the session
cursors' keys are database-specific, so the unit tier's SQLite run is not enough. The PostHog person
deletion an erasure owes is sent by a real Celery worker. The retention purge runs here too."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import orjson
import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.processing import process_pending_events
from analytics.metrics.calculation import metrics_backfill
from analytics.models import BusinessMetric, DailyEventRollup, FailedEvent, PostHogPersonDeletion, UserEvent
from analytics.privacy import retention
from analytics.privacy.retention import events_horizon, retention_purge
from tests.factories import event
from tests.integration.support import ServiceProcess, wait_until
from tests.support.posthog_server import PostHogCaptureServer
from tests.support.privacy import (
    ANON,
    OLD_DAY,
    OTHER,
    OTHER_ANON,
    OTHER_WORDS,
    PERSON,
    PRIVACY,
    PURGED_AT,
    WORDS,
    retention_platform_seed,
    seed,
    tables_mentioning,
)
from tests.unit.api.bi_support import bearer

PERSONAL_KEY = "phx_integration_personal_key"
PROJECT = "31337"


def test_export_then_erasure_leave_no_trace_of_the_person_and_keep_everyone_else(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    seed(client, key_headers, PERSON, ANON, WORDS)
    seed(client, key_headers, OTHER, OTHER_ANON, OTHER_WORDS)
    admin = bearer("admin")

    exported = client.get(f"{PRIVACY}/{PERSON}/export", headers=admin)
    assert exported.status_code == 200, exported.text[:300]
    text = orjson.dumps(exported.json()).decode()
    assert WORDS in text and OTHER not in text and OTHER_WORDS not in text
    assert len(exported.json()["tables"]["analytics_failed_event"]) == 2  # by user id and by the linked id

    before = tables_mentioning(PERSON, ANON, WORDS)
    assert all(before.values()), before
    erased = client.delete(f"{PRIVACY}/{PERSON}", headers=admin)
    assert erased.status_code == 200, erased.text[:300]
    assert tables_mentioning(PERSON, ANON, WORDS) == {PERSON: set(), ANON: set(), WORDS: set()}
    assert all(tables_mentioning(OTHER, OTHER_ANON, OTHER_WORDS).values())
    again = client.delete(f"{PRIVACY}/{PERSON}", headers=admin)
    assert again.status_code == 200 and set(again.json()["erased"].values()) == {0}


def test_erasure_reaches_posthog_through_a_real_worker(
    client: TestClient,
    key_headers: dict[str, str],
    settings: Any,
    celery_worker_with: Callable[..., ServiceProcess],
) -> None:
    """The erasure commits its PostHog deletion rows on PostgreSQL and enqueues the task on the broker; a
    real worker sends PostHog's bulk delete and removes the rows only after PostHog's 2xx."""
    with PostHogCaptureServer(personal_api_key=PERSONAL_KEY, project_id=PROJECT) as posthog:
        deletion = {
            "POSTHOG_PERSONAL_API_KEY": PERSONAL_KEY,
            "POSTHOG_PROJECT_ID": PROJECT,
            "POSTHOG_API_HOST": posthog.url,
            "POSTHOG_DELETION_DELAY_SECONDS": "2",  # the task is enqueued with this countdown (an ETA task)
        }
        for name, value in deletion.items():
            setattr(settings, name, int(value) if name.endswith("_SECONDS") else value)
        seed(client, key_headers, PERSON, ANON, WORDS)
        celery_worker_with(**deletion)

        erased = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))

        assert erased.status_code == 200 and erased.json()["posthog_deletion"] == "requested"
        wait_until(
            lambda: not PostHogPersonDeletion.objects.exists(),
            timeout=60,
            what="the worker to send the PostHog deletion and drop its rows",
        )
        assert posthog.deletions() == [{"distinct_ids": sorted([ANON, PERSON]), "delete_events": True}]
        assert tables_mentioning(PERSON, ANON) == {PERSON: set(), ANON: set()}


def test_retention_purges_in_batches_on_postgresql_and_freezes_the_purged_days(
    client: TestClient, key_headers: dict[str, str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purge's statements (the not-yet-forwarded exclusion, the batched deletes with their cascades) and
    the frozen days, on PostgreSQL; twice, to show the second run removes nothing."""
    settings.ANALYTICS_RETENTION_DAYS = 120
    monkeypatch.setattr(retention, "BATCH_SIZE", 3)  # several batches over the 4 old events
    try:
        retention_platform_seed(client, key_headers)
        clock.freeze(PURGED_AT)
        first = retention_purge()
        second = retention_purge()
        metrics_backfill(since=OLD_DAY)
    finally:
        clock.freeze(None)
    assert first.complete and first.removed["analytics_user_event"] == 4
    assert second.removed == {}
    assert not UserEvent.objects.filter(timestamp__lt=events_horizon(PURGED_AT)).exists()
    assert UserEvent.objects.count() == 4
    assert DailyEventRollup.objects.filter(day=OLD_DAY).exists()
    assert (
        BusinessMetric.objects.get(
            metric_name="daily_active_users", period_type="day", period_start=OLD_DAY, breakdown_key=""
        ).value
        == 2
    )


def test_an_opt_out_covers_the_persons_device_and_invalid_events_on_postgresql(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    """The consent lookups are raw array statements on PostgreSQL (a join through the identity links for the
    device): an opted-out person's events by user id, by their linked device, valid or not, are dropped."""
    seed(client, key_headers, PERSON, ANON, WORDS)  # links ANON to PERSON
    assert client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=bearer("admin")).status_code == 200
    failed_before = FailedEvent.objects.count()
    events = [
        event(event_name="page_view", user_id=None, anonymous_id=ANON, properties={"path": "/"}),
        event(event_name="page_view", user_id=PERSON, properties={"path": "/"}),
        {"event_name": "", "user_id": PERSON},
        {"event_name": "", "anonymous_id": ANON},
        event(event_name="page_view", user_id=OTHER, properties={"path": "/"}),
    ]
    answer = client.post("/api/analytics/events/batch", json={"events": events}, headers=key_headers).json()
    assert (answer["stored"], answer["dropped"], answer["rejected"]) == (1, 4, 0)
    assert FailedEvent.objects.count() == failed_before


def test_review_text_is_encrypted_at_rest_on_postgresql_before_and_after_a_rotation(
    client: TestClient, key_headers: dict[str, str], settings: Any
) -> None:
    """The raw plaintext scan of every text and JSON column on PostgreSQL, after ingestion and processing,
    and again after `rotate_keys` moved the texts to a new key (JSON updates in batches)."""
    secret = "Our guide at the Hampi heritage walk was the best part of the trip"
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = old_key
    review = event(event_name="review_submitted", user_id=PERSON, properties={"listing_id": "L1", "rating": 4})
    review["properties"]["text"] = secret
    assert (
        client.post("/api/analytics/events/batch", json={"events": [review]}, headers=key_headers).json()["stored"] == 1
    )
    process_pending_events()
    assert tables_mentioning(secret)[secret] == set()
    assert UserEvent.objects.get(event_name="review_submitted").sentiment_score is not None

    settings.FIELD_ENCRYPTION_KEYS = f"{new_key},{old_key}"
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert out.getvalue().strip() == "rotated=1 already_current=0 undecryptable=0"
    settings.FIELD_ENCRYPTION_KEYS = new_key
    assert tables_mentioning(secret)[secret] == set()
    exported = client.get(f"{PRIVACY}/{PERSON}/export", headers=bearer("admin")).json()
    assert [row["properties"]["text"] for row in exported["tables"]["analytics_user_event"]] == [secret]
