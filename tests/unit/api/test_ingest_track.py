"""POST /api/analytics/events/track: the documented body, the full envelope, replays, privacy."""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.conf import LazySettings
from django.db import connection
from fastapi.testclient import TestClient

from analytics.models import FailedEvent, UserEvent
from tests.assertions import assert_error, row_text
from tests.factories import CHROME_ON_WINDOWS, event

TRACK = "/api/analytics/events/track"


def test_documented_body_is_stored_and_answered_with_uuid_and_status(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    response = client.post(
        TRACK,
        json={"event_name": "share_clicked", "event_type": "engagement", "metadata": {"channel": "whatsapp"}},
        headers=key_headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"uuid", "status"}
    assert body["status"] == "stored"
    row = UserEvent.objects.get(uuid=uuid_lib.UUID(body["uuid"]))  # generated, and a valid uuid
    assert (row.event_name, row.event_type, row.source) == ("share_clicked", "engagement", "http")
    assert row.properties == {"channel": "whatsapp"}
    assert row.user_id is None and row.anonymous_id is None  # unattributed is allowed


def test_full_envelope_is_stored_field_by_field(
    client: TestClient, key_headers: dict[str, str], frozen_now: datetime
) -> None:
    raw = {
        "uuid": str(uuid_lib.uuid4()),
        "event_name": "event_viewed",
        "user_id": "u-42",
        "anonymous_id": "anon-42",
        "session_id": "sess-42",
        "timestamp": (frozen_now - timedelta(minutes=10)).isoformat(),
        "sent_at": (frozen_now - timedelta(minutes=1)).isoformat(),
        "properties": {"listing_id": "L-7", "path": "/e/L-7"},
        "context": {"locale": "en-IN", "page": {"referrer": "https://example.org/"}},
    }
    response = client.post(TRACK, json=raw, headers=key_headers)
    assert response.json() == {"uuid": raw["uuid"], "status": "stored"}
    row = UserEvent.objects.get(uuid=raw["uuid"])
    assert (row.user_id, row.anonymous_id, row.session_id) == ("u-42", "anon-42", "sess-42")
    assert row.event_type == "page_view"
    assert row.listing_id == "L-7" and row.page_path == "/e/L-7" and row.referrer == "https://example.org/"
    assert row.timestamp == frozen_now - timedelta(minutes=9)  # the client clock was 1 min behind
    assert row.received_at == frozen_now
    assert row.context == {"locale": "en-IN", "page": {"referrer": "https://example.org/"}}


def test_metadata_and_properties_together_are_refused(client: TestClient, key_headers: dict[str, str]) -> None:
    response = client.post(TRACK, json=event(metadata={"a": 1}, properties={"a": 1}), headers=key_headers)
    assert_error(response, 422, "metadata_conflict")
    assert UserEvent.objects.count() == 0


def test_numeric_user_id_is_stored_as_its_string(client: TestClient, key_headers: dict[str, str]) -> None:
    raw = event(user_id=1234567890123)
    assert client.post(TRACK, json=raw, headers=key_headers).json()["status"] == "stored"
    assert UserEvent.objects.get(uuid=raw["uuid"]).user_id == "1234567890123"


def test_replayed_track_stores_the_uuid_once(client: TestClient, key_headers: dict[str, str]) -> None:
    raw = event()
    answers = [client.post(TRACK, json=raw, headers=key_headers).json() for _ in range(3)]
    assert [a["status"] for a in answers] == ["stored", "duplicate", "duplicate"]
    assert {a["uuid"] for a in answers} == {raw["uuid"]}
    assert UserEvent.objects.filter(uuid=raw["uuid"]).count() == 1


def test_same_uuid_with_a_different_payload_is_409_and_the_row_is_kept(
    client: TestClient, key_headers: dict[str, str]
) -> None:
    raw = event(properties={"button": "join", "plan": "gold"})
    client.post(TRACK, json=raw, headers=key_headers)
    response = client.post(TRACK, json={**raw, "properties": {"button": "leave"}}, headers=key_headers)
    error = assert_error(response, 409, "uuid_conflict")
    assert error["details"]["uuid"] == raw["uuid"]
    assert UserEvent.objects.get(uuid=raw["uuid"]).properties == {"button": "join", "plan": "gold"}
    assert FailedEvent.objects.get().reason == "uuid_conflict"


def test_disabled_analytics_answers_dropped_and_stores_nothing(
    client: TestClient, key_headers: dict[str, str], settings: LazySettings
) -> None:
    settings.ANALYTICS_ENABLED = False
    response = client.post(TRACK, json=event(), headers=key_headers)
    assert response.status_code == 200
    assert response.json() == {"uuid": None, "status": "dropped", "reason": "analytics_disabled"}
    assert UserEvent.objects.count() == 0 and FailedEvent.objects.count() == 0


def test_real_browser_user_agent_is_parsed(client: TestClient, key_headers: dict[str, str]) -> None:
    raw = event()
    client.post(TRACK, json=raw, headers={**key_headers, "User-Agent": CHROME_ON_WINDOWS})
    row = UserEvent.objects.get(uuid=raw["uuid"])
    assert (row.device_type, row.browser, row.os) == ("desktop", "Chrome 120", "Windows 10")
    assert CHROME_ON_WINDOWS not in row_text(row)


def test_pii_is_scrubbed_before_storage(client: TestClient, key_headers: dict[str, str]) -> None:
    raw = event(
        properties={
            "note": "mail priya@example.com or call +91 98765 43210",
            "order_id": "9876543210",
            "items": [{"contact": "987-654-3210"}],
        },
        context={"page": {"title": "Hi priya@example.com"}},
    )
    client.post(TRACK, json=raw, headers=key_headers)
    row = UserEvent.objects.get(uuid=raw["uuid"])
    assert row.properties == {
        "note": "mail [email] or call [phone]",
        "order_id": "9876543210",
        "items": [{"contact": "[phone]"}],
    }
    assert row.context == {"page": {"title": "Hi [email]"}}
    text = row_text(row)
    assert "priya@example.com" not in text and "98765 43210" not in text


@pytest.mark.parametrize(
    ("peer", "prefix"),
    [("203.0.113.77", "203.0.113.0/24"), ("2001:db8:1:2::5", "2001:db8:1::/48")],
)
def test_connection_ip_is_truncated_and_never_stored_whole(
    client_from: Callable[[str], TestClient], key_headers: dict[str, str], peer: str, prefix: str
) -> None:
    raw = event(properties={"seen_from": peer})
    client_from(peer).post(TRACK, json=raw, headers=key_headers)
    row = UserEvent.objects.get(uuid=raw["uuid"])
    assert row.ip_prefix == prefix
    assert peer not in row_text(row)


def test_context_ip_is_truncated_and_never_stored_whole(client: TestClient, key_headers: dict[str, str]) -> None:
    raw = event(context={"ip": "198.51.100.23", "note": "proxy 2001:db8:abcd:12::1"})
    client.post(TRACK, json=raw, headers=key_headers)
    row = UserEvent.objects.get(uuid=raw["uuid"])
    assert row.ip_prefix == "198.51.100.0/24"
    text = row_text(row)
    assert "198.51.100.23" not in text and "2001:db8:abcd:12::1" not in text


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    client_from: Callable[[str], TestClient], key_headers: dict[str, str], settings: LazySettings
) -> None:
    settings.ANALYTICS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    forwarded = {**key_headers, "X-Forwarded-For": "198.51.100.23"}
    untrusted, trusted = event(), event()
    client_from("203.0.113.77").post(TRACK, json=untrusted, headers=forwarded)
    client_from("10.1.2.3").post(TRACK, json=trusted, headers=forwarded)
    assert UserEvent.objects.get(uuid=untrusted["uuid"]).ip_prefix == "203.0.113.0/24"
    trusted_row = UserEvent.objects.get(uuid=trusted["uuid"])
    assert trusted_row.ip_prefix == "198.51.100.0/24"
    assert "198.51.100.23" not in row_text(trusted_row)


def test_forwarded_for_is_ignored_when_no_proxy_is_trusted(
    client_from: Callable[[str], TestClient], key_headers: dict[str, str], settings: LazySettings
) -> None:
    settings.ANALYTICS_TRUSTED_PROXIES = []
    raw = event()
    client_from("10.1.2.3").post(TRACK, json=raw, headers={**key_headers, "X-Forwarded-For": "198.51.100.23"})
    assert UserEvent.objects.get(uuid=raw["uuid"]).ip_prefix == "10.1.2.0/24"


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE analytics_user_event; --",
        "<script>alert(1)</script>",
        "Robert'); DELETE FROM x;--  \"&<>",
    ],
)
def test_sql_and_html_in_strings_are_stored_verbatim(
    client: TestClient, key_headers: dict[str, str], text: str
) -> None:
    raw = event(properties={"comment": text, text: "as a key"}, context={"page": {"title": text}})
    assert client.post(TRACK, json=raw, headers=key_headers).json()["status"] == "stored"
    row = UserEvent.objects.get(uuid=raw["uuid"])
    assert row.properties == {"comment": text, text: "as a key"}
    assert row.properties["comment"].encode() == text.encode()
    assert row.context == {"page": {"title": text}}
    with connection.cursor() as cursor:  # the table is still there, with its one row
        cursor.execute("SELECT COUNT(*) FROM analytics_user_event")
        assert cursor.fetchone() == (1,)
