"""Opt-out and opt-in through the API (privacy issue, "Subject rights"): an admin's call is honoured by
collection at once — a hundred events sent afterwards, from their user id or from their device before login,
valid or not, leave no row and reach no third party — is idempotent, and is audit-logged without the
person's id. Who may call it is the route-access test's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.forwarding import posthog_forward
from analytics.collection.processing import process_pending_events
from analytics.models import AuditLog, FailedEvent, ForwardingOutbox, IdentityLink, UserConsent, UserEvent
from analytics.security.audit import person_ref
from tests.factories import event
from tests.support.posthog_server import PostHogCaptureServer
from tests.unit.api.bi_support import bearer

PRIVACY = "/api/analytics/privacy/users"
BATCH = "/api/analytics/events/batch"
KEY = "phc_local_test_project_key"
PERSON = "user-4711"


@pytest.fixture
def posthog(settings: Any) -> Iterator[PostHogCaptureServer]:
    with PostHogCaptureServer(api_key=KEY) as server:
        settings.POSTHOG_API_KEY = KEY
        settings.POSTHOG_HOST = server.url
        yield server


@contextmanager
def _past_the_backoff() -> Iterator[None]:
    """Two hours later: rows PostHog refused are due again."""
    clock.freeze(clock.now() + timedelta(hours=2))
    try:
        yield
    finally:
        clock.freeze(None)


def _send(client: TestClient, key_headers: dict[str, str], count: int) -> dict[str, Any]:
    events = [event(user_id=PERSON, properties={"n": i}) for i in range(count)]
    response = client.post(BATCH, json={"events": events}, headers=key_headers)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def test_after_an_opt_out_a_hundred_events_leave_no_trace_and_reach_no_third_party(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    """Catches: an opt-out recorded but not read at the door, or rows queued for forwarding anyway."""
    admin = bearer("admin")
    response = client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=admin)
    assert response.status_code == 200, response.text
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == {
        "user_id": PERSON,
        "analytics_opt_out": True,
        "changed": True,
    }

    sent = _send(client, key_headers, 100)
    posthog_forward()

    assert (sent["stored"], sent["dropped"]) == (0, 100)
    assert not UserEvent.objects.filter(user_id=PERSON).exists()
    assert ForwardingOutbox.objects.count() == 0
    assert posthog.requests() == []


def test_opting_in_again_stores_what_is_sent_from_then_on(client: TestClient, key_headers: dict[str, str]) -> None:
    """Catches: an opt-in that leaves the user dropped (or an opt-out that cannot be undone)."""
    admin = bearer("admin")
    assert client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=admin).status_code == 200
    assert _send(client, key_headers, 3)["dropped"] == 3
    response = client.post(f"{PRIVACY}/{PERSON}/opt-in", headers=admin)
    assert response.status_code == 200, response.text
    assert (response.json()["analytics_opt_out"], response.json()["changed"]) == (False, True)
    assert _send(client, key_headers, 3)["stored"] == 3
    assert UserEvent.objects.filter(user_id=PERSON).count() == 3  # nothing dropped came back


def test_calls_are_idempotent_and_each_change_is_audited_without_the_persons_id(client: TestClient) -> None:
    """Catches: a repeated call recorded as a new change, or the audit log naming the person in clear."""
    admin = bearer("admin")
    answers = [
        client.post(f"{PRIVACY}/{PERSON}/{action}", headers=admin).json()
        for action in ("opt-out", "opt-out", "opt-in", "opt-in")
    ]
    assert [(a["analytics_opt_out"], a["changed"]) for a in answers] == [
        (True, True),
        (True, False),
        (False, True),
        (False, False),
    ]
    assert UserConsent.objects.filter(user_id=PERSON).count() == 1
    rows = list(AuditLog.objects.filter(action__startswith="privacy.").order_by("id"))
    assert [(r.action, r.target_type, r.target_id, r.actor_role) for r in rows] == [
        ("privacy.opt_out", "user", person_ref(PERSON), "admin"),
        ("privacy.opt_in", "user", person_ref(PERSON), "admin"),
    ]
    assert PERSON not in str(list(AuditLog.objects.values_list()))


@pytest.mark.parametrize("user_id", ["%20%20", "x" * 129])
def test_a_user_id_that_is_blank_or_too_long_is_a_422_and_records_nothing(client: TestClient, user_id: str) -> None:
    response = client.post(f"{PRIVACY}/{user_id}/opt-out", headers=bearer("admin"))
    assert response.status_code == 422, response.text
    assert not UserConsent.objects.exists() and not AuditLog.objects.filter(action__startswith="privacy.").exists()


def test_rows_queued_for_posthog_before_the_opt_out_are_never_sent(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    """Catches: an opt-out that stops new events but lets the ones already waiting for PostHog go out."""
    posthog.fail_with(503)
    assert _send(client, key_headers, 5)["stored"] == 5
    assert ForwardingOutbox.objects.count() == 5  # waiting: PostHog refused them
    assert client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=bearer("admin")).status_code == 200
    posthog.recover()
    posthog.clear()
    with _past_the_backoff():
        assert posthog_forward().skipped_opted_out == 5
    assert posthog.events() == []
    assert PERSON not in "".join(r.raw_body.decode() for r in posthog.requests())


def test_opting_in_someone_never_opted_out_stores_nothing(client: TestClient) -> None:
    """Catches: an opt-in that keeps the person's id in the consent table (and unaudited)."""
    response = client.post(f"{PRIVACY}/{PERSON}/opt-in", headers=bearer("admin"))
    assert response.status_code == 200 and response.json()["changed"] is False
    assert not UserConsent.objects.exists() and not AuditLog.objects.exists()


@pytest.mark.django_db
def test_a_consent_row_never_shows_the_persons_id_where_logs_copy_it() -> None:
    """Catches: the admin's change log and the audit log (which copy a row's text and outlive an erasure)
    holding the id in clear."""
    assert PERSON not in str(UserConsent.objects.create(user_id=PERSON, analytics_opt_out=True, updated_at=clock.now()))


DEVICE = "anon-device-4711"


def _link_device(client: TestClient, key_headers: dict[str, str]) -> None:
    """The person logs in on their device: an event with both ids links the anonymous id to them."""
    login = event(event_name="page_view", user_id=PERSON, anonymous_id=DEVICE, properties={"path": "/login"})
    assert client.post(BATCH, json={"events": [login]}, headers=key_headers).json()["stored"] == 1
    process_pending_events()
    assert IdentityLink.objects.filter(anonymous_id=DEVICE, user_id=PERSON).exists()


def test_after_an_opt_out_their_device_and_their_invalid_events_leave_no_trace_either(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    """Catches: events of the opted-out person's device that name no user (before login again) stored, or
    their invalid events kept in the quarantine as sent — by user id, as a JSON number, or by the device."""
    _link_device(client, key_headers)
    process_pending_events()
    posthog_forward()
    posthog.clear()
    stored_before = UserEvent.objects.count()
    assert client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=bearer("admin")).status_code == 200

    events = [
        *(
            event(event_name="page_view", user_id=None, anonymous_id=DEVICE, properties={"path": "/"})
            for _ in range(40)
        ),
        *({"event_name": "", "user_id": PERSON, "properties": {"n": i}} for i in range(20)),
        *({"event_name": "", "user_id": f" {PERSON} "} for _ in range(10)),
        *({"event_name": "", "anonymous_id": DEVICE} for _ in range(20)),
        *(event(user_id=PERSON, anonymous_id="a-new-device") for _ in range(10)),
    ]
    answer = client.post(BATCH, json={"events": events}, headers=key_headers).json()
    process_pending_events()
    posthog_forward()

    assert (answer["stored"], answer["rejected"], answer["dropped"]) == (0, 0, 100)
    assert {r["reason"] for r in answer["results"]} == {"opted_out"}
    assert UserEvent.objects.count() == stored_before
    assert not FailedEvent.objects.exists()
    assert posthog.requests() == []


def test_a_numeric_user_id_of_an_opted_out_person_is_dropped_even_when_invalid(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    assert client.post(f"{PRIVACY}/4711/opt-out", headers=bearer("admin")).status_code == 200
    answer = client.post(BATCH, json={"events": [{"event_name": "", "user_id": 4711}]}, headers=key_headers).json()
    assert answer["dropped"] == 1 and not FailedEvent.objects.exists()


def test_someone_else_on_the_opted_out_persons_device_is_still_tracked(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    """Catches: an opt-out that silences every person who later uses the same device under their own id."""
    _link_device(client, key_headers)
    assert client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=bearer("admin")).status_code == 200
    other = event(event_name="page_view", user_id="user-0815", anonymous_id=DEVICE, properties={"path": "/"})
    invalid = {"event_name": "", "user_id": "user-0815", "anonymous_id": DEVICE}
    before_login = event(event_name="page_view", user_id=None, anonymous_id=DEVICE, properties={"path": "/"})
    answer = client.post(BATCH, json={"events": [other, invalid, before_login]}, headers=key_headers).json()
    assert (answer["stored"], answer["rejected"], answer["dropped"]) == (1, 1, 1)
    assert FailedEvent.objects.count() == 1


def test_device_rows_queued_for_posthog_before_the_opt_out_are_never_sent(
    client: TestClient, key_headers: dict[str, str], posthog: PostHogCaptureServer
) -> None:
    _link_device(client, key_headers)
    posthog_forward()
    posthog.fail_with(503)
    anonymous = event(event_name="page_view", user_id=None, anonymous_id=DEVICE, properties={"path": "/"})
    assert client.post(BATCH, json={"events": [anonymous]}, headers=key_headers).json()["stored"] == 1
    process_pending_events()
    assert ForwardingOutbox.objects.count() == 1
    assert client.post(f"{PRIVACY}/{PERSON}/opt-out", headers=bearer("admin")).status_code == 200
    posthog.recover()
    posthog.clear()
    with _past_the_backoff():
        assert posthog_forward().skipped_opted_out == 1
    assert posthog.events() == []
