"""Erasure reaches PostHog (privacy issue, "Subject rights"): the person's PostHog persons and their events
are deleted there through PostHog's own API, against a local server that speaks it — every distinct id the
forwarder used for them, nobody else's; an outage or a refused key delays the deletion and never loses it;
without the personal key the answer says so instead of pretending."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as project_settings
from fastapi.testclient import TestClient

from analytics import clock
from analytics.models import PostHogPersonDeletion
from analytics.privacy.posthog_deletion import BATCH_SIZE, posthog_api_host, posthog_persons_delete
from analytics.tasks import delete_from_posthog
from analytics.tasks.schedule import beat_schedule
from tests.support.posthog_server import PostHogCaptureServer
from tests.support.privacy import ANON, OTHER, OTHER_ANON, OTHER_WORDS, PERSON, PRIVACY, WORDS, seed, tables_mentioning
from tests.unit.api.bi_support import bearer

KEY = "phc_local_test_project_key"
PERSONAL_KEY = "phx_local_personal_key"
PROJECT = "4242"


@pytest.fixture
def posthog(settings: Any) -> Iterator[PostHogCaptureServer]:
    """PostHog capture and person deletion configured, against the local server."""
    with PostHogCaptureServer(api_key=KEY, personal_api_key=PERSONAL_KEY, project_id=PROJECT) as server:
        settings.POSTHOG_API_KEY = KEY
        settings.POSTHOG_HOST = server.url
        settings.POSTHOG_PERSONAL_API_KEY = PERSONAL_KEY
        settings.POSTHOG_PROJECT_ID = PROJECT
        settings.POSTHOG_API_HOST = ""
        settings.POSTHOG_DELETION_DELAY_SECONDS = 0  # sent at once here; the delay has its own test
        yield server


def _later(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


@pytest.fixture
def movable_clock() -> Iterator[None]:
    clock.freeze(clock.now())
    yield
    clock.freeze(None)


def test_erasure_deletes_the_persons_posthog_persons_and_events_and_nobody_elses(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    """Catches: the deletion never sent, sent without `delete_events`, missing the anonymous id (events
    forwarded before the login was processed went under it), naming someone else, or its pending row left
    holding the id."""
    seed(client, key_headers, PERSON, ANON, WORDS)
    seed(client, key_headers, OTHER, OTHER_ANON, OTHER_WORDS)
    assert {PERSON, OTHER} <= {e["distinct_id"] for e in posthog.events()}  # what PostHog holds before

    response = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))

    assert response.status_code == 200, response.text[:300]
    assert response.json()["posthog_deletion"] == "requested"
    assert posthog.deletions() == [{"distinct_ids": sorted([ANON, PERSON]), "delete_events": True}]
    assert PostHogPersonDeletion.objects.count() == 0  # accepted, so nothing of the person is left here
    assert tables_mentioning(PERSON, ANON, WORDS) == {PERSON: set(), ANON: set(), WORDS: set()}


def test_an_outage_or_a_refused_key_delays_the_deletion_and_never_loses_it(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer, settings: Any, movable_clock: None
) -> None:
    seed(client, key_headers, PERSON, ANON, WORDS)
    posthog.fail_with(503)

    assert client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).json()["posthog_deletion"] == "requested"

    pending = list(PostHogPersonDeletion.objects.order_by("distinct_id"))
    assert [(p.distinct_id, p.attempts, p.last_error) for p in pending] == [
        (ANON, 1, "http_503"),
        (PERSON, 1, "http_503"),
    ]
    assert tables_mentioning(PERSON)[PERSON] == {"analytics_posthog_person_deletion.distinct_id"}
    assert posthog_persons_delete().batches == 0  # backing off: nothing is due yet
    posthog.recover()
    settings.POSTHOG_PERSONAL_API_KEY = "phx_revoked"
    _later(3600)
    assert posthog_persons_delete().failed == 2  # 401: kept for when the key is fixed
    assert PostHogPersonDeletion.objects.get(distinct_id=PERSON).last_error == "http_401"

    settings.POSTHOG_PERSONAL_API_KEY = PERSONAL_KEY
    _later(3600)
    assert delete_from_posthog.apply().get() == 2
    assert posthog.deleted_distinct_ids() == {ANON, PERSON}
    assert PostHogPersonDeletion.objects.count() == 0


def test_a_worker_that_died_mid_send_leaves_a_lease_that_runs_out(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer, movable_clock: None
) -> None:
    posthog.stop()  # connection refused: the erasure's own attempt fails, the rows stay
    seed_response = client.post(
        "/api/analytics/events/batch",
        json={"events": [{"event_name": "page_view", "user_id": PERSON, "properties": {}}]},
        headers=key_headers,
    )
    assert seed_response.status_code == 200
    client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))
    assert PostHogPersonDeletion.objects.get().attempts == 1
    posthog.start()
    _later(3600)
    PostHogPersonDeletion.objects.update(next_attempt_at=clock.now() + timedelta(seconds=300))  # a lease
    assert posthog_persons_delete().batches == 0
    _later(301)
    assert posthog_persons_delete().deleted == 1
    assert posthog.deleted_distinct_ids() == {PERSON}


def test_without_the_personal_key_the_answer_says_posthog_was_not_reached(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer, settings: Any
) -> None:
    settings.POSTHOG_PERSONAL_API_KEY = ""
    seed(client, key_headers, PERSON, ANON, WORDS)

    first = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).json()
    second = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).json()

    assert (first["posthog_deletion"], second["posthog_deletion"]) == ("not_configured", "nothing_erased")
    assert posthog.deletions() == [] and PostHogPersonDeletion.objects.count() == 0


def test_a_second_erasure_asks_posthog_nothing_more(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    seed(client, key_headers, PERSON, ANON, WORDS)
    client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))
    second = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).json()
    assert second["posthog_deletion"] == "nothing_erased"
    assert len(posthog.deletions()) == 1


def test_health_reports_deletions_owed_to_posthog(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    seed(client, key_headers, PERSON, ANON, WORDS)
    posthog.fail_with(503)
    client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))
    body = client.get("/api/analytics/health").json()["integrations"]["posthog"]
    assert body["person_deletion_configured"] is True
    assert (body["person_deletions_pending"], body["person_deletions_retrying"]) == (2, 2)


def test_many_ids_go_in_batches_of_posthogs_limit(posthog: PostHogCaptureServer, db: None) -> None:
    now = clock.now()
    PostHogPersonDeletion.objects.bulk_create(
        [PostHogPersonDeletion(distinct_id=f"u{i}", requested_at=now, next_attempt_at=now) for i in range(2_500)]
    )
    result = posthog_persons_delete()
    assert (result.deleted, result.batches) == (2_500, 3)
    assert [len(d["distinct_ids"]) for d in posthog.deletions()] == [BATCH_SIZE, BATCH_SIZE, 500]


@pytest.mark.parametrize(
    ("host", "api_host", "expected"),
    [
        ("https://us.i.posthog.com", "", "https://us.posthog.com"),
        ("https://eu.i.posthog.com/", "", "https://eu.posthog.com"),
        ("https://posthog.example.org", "", "https://posthog.example.org"),
        ("https://us.i.posthog.com", "https://proxy.example.org/", "https://proxy.example.org"),
    ],
)
def test_the_private_api_host_is_the_app_host_not_the_ingestion_host(
    settings: Any, host: str, api_host: str, expected: str
) -> None:
    settings.POSTHOG_HOST, settings.POSTHOG_API_HOST = host, api_host
    assert posthog_api_host() == expected


def test_deletion_task_is_late_acked_time_limited_within_the_lease_and_scheduled() -> None:
    assert delete_from_posthog.acks_late is True
    assert (
        delete_from_posthog.time_limit is not None
        and delete_from_posthog.time_limit < project_settings.ANALYTICS_DELIVERY_LEASE_SECONDS
    )
    assert beat_schedule()["delete-from-posthog"]["task"] == delete_from_posthog.name


def test_the_deletion_waits_past_the_forwarders_lease(
    client: TestClient,
    key_headers: dict[str, str],
    posthog: PostHogCaptureServer,
    settings: Any,
    movable_clock: None,
) -> None:
    """Catches: a deletion sent while a batch of the person's events, claimed before the erasure, can still
    reach PostHog after it (a distinct id reused after its person was deleted is not supported there)."""
    settings.POSTHOG_DELETION_DELAY_SECONDS = 360
    seed(client, key_headers, PERSON, ANON, WORDS)
    client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))
    assert posthog.deletions() == [] and PostHogPersonDeletion.objects.count() == 2
    _later(300)  # the forwarder's lease: still not due
    assert posthog_persons_delete().batches == 0
    _later(61)
    assert posthog_persons_delete().deleted == 2
