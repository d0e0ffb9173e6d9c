"""Erasure of a person's data (privacy issue, "Subject rights"): after one call, a raw scan of every text
column of every table finds neither their id, nor the anonymous id they browsed with, nor what they wrote —
while everyone else's data stays; events not yet forwarded are dropped; a second call erases nothing and
says so; the audit row does not name them. The same scan runs on PostgreSQL in the integration tier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.models import AuditLog, ForwardingOutbox, IdentityLink, UserEvent
from analytics.privacy.registry import PERSONAL_DATA, Erasure, Person
from analytics.security.audit import person_ref
from tests.support.posthog_server import PostHogCaptureServer
from tests.support.privacy import (
    ANON,
    BATCH,
    OTHER,
    OTHER_ANON,
    OTHER_WORDS,
    PERSON,
    PRIVACY,
    WORDS,
    seed,
    tables_mentioning,
)
from tests.unit.api.bi_support import bearer

KEY = "phc_local_test_project_key"


@pytest.fixture
def posthog_down(settings: Any) -> Iterator[PostHogCaptureServer]:
    """PostHog configured but refusing (503): forwarded events wait in the outbox."""
    with PostHogCaptureServer(api_key=KEY) as server:
        server.fail_with(503)
        settings.POSTHOG_API_KEY = KEY
        settings.POSTHOG_HOST = server.url
        yield server


def test_after_erasure_no_table_holds_the_person_and_everyone_else_is_untouched(
    client: TestClient, key_headers: dict[str, str], posthog_down: PostHogCaptureServer
) -> None:
    """Catches: a table erasure skips, the anonymous history before login kept, rows waiting for PostHog
    still sent later, or someone else's rows deleted."""
    seed(client, key_headers, PERSON, ANON, WORDS)
    seed(client, key_headers, OTHER, OTHER_ANON, OTHER_WORDS)
    assert ForwardingOutbox.objects.filter(event__user_id=PERSON).exists()  # waiting for PostHog
    others_events = UserEvent.objects.filter(user_id=OTHER).count()
    before = tables_mentioning(PERSON, ANON, WORDS)
    assert before[PERSON] and before[ANON] and before[WORDS]  # the scan sees them where they are

    response = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))

    assert response.status_code == 200, response.text[:300]
    erased = response.json()["erased"]
    assert response.json()["user_id"] == PERSON
    assert set(erased) == {e.table for e in PERSONAL_DATA if e.erasure is Erasure.DELETE}
    assert erased["analytics_user_event"] == 3 and erased["analytics_failed_event"] == 2
    assert erased["analytics_forwarding_outbox"] == 3 and erased["analytics_identity_link"] == 1
    assert tables_mentioning(PERSON, ANON, WORDS) == {PERSON: set(), ANON: set(), WORDS: set()}
    assert UserEvent.objects.filter(user_id=OTHER).count() == others_events
    assert all(tables_mentioning(OTHER, OTHER_ANON, OTHER_WORDS).values())
    assert ForwardingOutbox.objects.filter(event__user_id=OTHER).exists()


def test_a_second_erasure_erases_nothing_and_says_so_and_each_is_audited_without_the_id(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    seed(client, key_headers, PERSON, ANON, WORDS)
    first = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).json()["erased"]
    second = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin"))
    assert sum(first.values()) > 0
    assert second.status_code == 200 and set(second.json()["erased"].values()) == {0}
    rows = list(AuditLog.objects.filter(action="privacy.erase").order_by("id"))
    assert [(r.target_id, bool(r.details["rows"])) for r in rows] == [
        (person_ref(PERSON), True),
        (person_ref(PERSON), False),
    ]


def _counts_of(user_id: str, anonymous_id: str) -> dict[str, int]:
    person = Person(user_id=user_id, anonymous_ids=(anonymous_id,))
    return {entry.table: entry.model._default_manager.filter(entry.rows(person)).count() for entry in PERSONAL_DATA}


def test_a_shared_device_keeps_the_next_persons_rows_when_the_first_is_erased(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    """Catches: rows found by the anonymous id alone — the next person who logs in on the same device
    carries it too, and their rows are theirs (the review found erasure deleting them)."""
    seed(client, key_headers, PERSON, ANON, WORDS)
    seed(client, key_headers, OTHER, ANON, OTHER_WORDS)  # the same device: the same anonymous id
    other_before = _counts_of(OTHER, ANON)
    exported = client.get(f"{PRIVACY}/{PERSON}/export", headers=bearer("admin")).json()
    assert OTHER not in orjson.dumps(exported).decode()
    assert client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).status_code == 200
    assert tables_mentioning(PERSON, WORDS) == {PERSON: set(), WORDS: set()}
    other_after = _counts_of(OTHER, ANON)
    assert other_after["analytics_user_event"] == other_before["analytics_user_event"] >= 2
    assert other_after["analytics_session"] == other_before["analytics_session"] >= 1


def test_everyone_elses_rows_stay_table_by_table(client: TestClient, key_headers: dict[str, str]) -> None:
    """Catches: an erasure query that also reaches someone else's rows in any one table."""
    seed(client, key_headers, PERSON, ANON, WORDS)
    seed(client, key_headers, OTHER, OTHER_ANON, OTHER_WORDS)
    before = _counts_of(OTHER, OTHER_ANON)
    assert client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).status_code == 200
    assert _counts_of(OTHER, OTHER_ANON) == before
    assert sum(before.values()) > 10


def test_an_id_sent_as_a_number_is_found_exactly(client: TestClient, key_headers: dict[str, str]) -> None:
    """Catches: quarantined events whose id was a JSON number left behind, another id's taken for it
    (`007` is not `7`), and a digit outside ASCII (`²`) crashing the request."""
    for user_id in (4711, 7):
        refused = client.post(
            "/api/analytics/events/batch",
            json={"events": [{"event_name": "", "user_id": user_id}]},
            headers=key_headers,
        )
        assert refused.json()["rejected"] == 1
    assert (
        len(client.get(f"{PRIVACY}/4711/export", headers=bearer("admin")).json()["tables"]["analytics_failed_event"])
        == 1
    )
    for lookalike in ("007", "²", "٧"):
        response = client.delete(f"{PRIVACY}/{lookalike}", headers=bearer("admin"))
        assert response.status_code == 200 and response.json()["erased"]["analytics_failed_event"] == 0, lookalike
    assert client.delete(f"{PRIVACY}/4711", headers=bearer("admin")).json()["erased"]["analytics_failed_event"] == 1


def test_a_refused_event_whose_ids_had_surrounding_spaces_is_found(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    """Catches: the quarantine keeping `" user-4711 "` as sent, which no request for user-4711 matches."""
    events = [
        {"event_name": "", "user_id": f"  {PERSON} "},
        {"event_name": "", "anonymous_id": f" {ANON}\t"},
    ]
    assert client.post(BATCH, json={"events": events}, headers=key_headers).json()["rejected"] == 2
    IdentityLink.objects.create(anonymous_id=ANON, user_id=PERSON, linked_at=clock.now())
    erased = client.delete(f"{PRIVACY}/{PERSON}", headers=bearer("admin")).json()["erased"]
    assert erased["analytics_failed_event"] == 2
    assert tables_mentioning(PERSON, ANON) == {PERSON: set(), ANON: set()}
