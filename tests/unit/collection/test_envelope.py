"""prepare_event: the accepted envelope, validation, scrubbing, enrichment (no database needed)."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from analytics.collection.envelope import (
    MAX_STRING_CHARS,
    EventRejected,
    PreparedEvent,
    RequestContext,
    prepare_event,
)
from tests.factories import CHROME_ON_WINDOWS, SAFARI_ON_IPHONE, event, nested, payment_event

RECEIVED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def prepare(raw: Any, *, request: RequestContext | None = None, source: str = "http") -> PreparedEvent:
    return prepare_event(raw, source=source, request=request or RequestContext(received_at=RECEIVED))


def rejection(raw: Any) -> EventRejected:
    with pytest.raises(EventRejected) as caught:
        prepare(raw)
    return caught.value


def test_documented_body_with_metadata_is_accepted_as_properties() -> None:
    prepared = prepare({"event_name": "share_clicked", "event_type": "engagement", "metadata": {"channel": "whatsapp"}})
    assert prepared.properties == {"channel": "whatsapp"}
    assert prepared.event_type == "engagement"
    assert prepared.event_name == "share_clicked"


def test_properties_and_metadata_together_are_refused() -> None:
    error = rejection(event(properties={"a": 1}, metadata={"a": 1}))
    assert error.code == "metadata_conflict"


def test_full_envelope_keeps_every_identity_field() -> None:
    event_uuid = uuid_lib.uuid4()
    prepared = prepare(
        {
            "uuid": str(event_uuid),
            "event_name": "button_clicked",
            "user_id": "u-9",
            "anonymous_id": "anon-9",
            "session_id": "sess-9",
            "timestamp": "2026-03-10T11:55:00Z",
            "sent_at": "2026-03-10T12:00:00Z",
            "properties": {"button": "join"},
            "context": {"locale": "en-IN"},
        }
    )
    assert prepared.uuid == event_uuid
    assert (prepared.user_id, prepared.anonymous_id, prepared.session_id) == ("u-9", "anon-9", "sess-9")
    assert prepared.timestamp == datetime(2026, 3, 10, 11, 55, tzinfo=UTC)
    assert prepared.context == {"locale": "en-IN"}


def test_numeric_user_id_becomes_its_string() -> None:
    assert prepare(event(user_id=9876543210)).user_id == "9876543210"


def test_boolean_user_id_is_refused_not_read_as_a_number() -> None:
    assert rejection(event(user_id=True)).code == "invalid_field"


def test_event_without_user_or_anonymous_id_is_unattributed() -> None:
    prepared = prepare(event(user_id=None))
    assert prepared.user_id is None and prepared.anonymous_id is None


def test_missing_uuid_is_generated() -> None:
    first = prepare(event(uuid=None))
    second = prepare(event(uuid=None))
    assert isinstance(first.uuid, uuid_lib.UUID)
    assert first.uuid != second.uuid


def test_uuid_spelling_is_normalised_so_replays_match() -> None:
    value = uuid_lib.uuid4()
    assert prepare(event(uuid=str(value).upper())).uuid == value
    assert prepare(event(uuid=value.hex)).uuid == value


@pytest.mark.parametrize("bad_uuid", ["not-a-uuid", "", 123, "1234"])
def test_invalid_uuid_is_refused(bad_uuid: Any) -> None:
    assert rejection(event(uuid=bad_uuid)).code == "invalid_uuid"


def test_unknown_top_level_field_is_refused_with_unknown_field() -> None:
    error = rejection(event(propertes={"typo": True}))
    assert error.code == "unknown_field"
    assert "propertes" in error.message


def test_event_name_of_200_characters_is_accepted_and_201_refused() -> None:
    assert prepare(event(event_name="a" * 200)).event_name == "a" * 200
    assert rejection(event(event_name="a" * 201)).code == "invalid_field"


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_event_name_is_refused_as_missing(name: str) -> None:
    assert rejection(event(event_name=name)).code == "missing_field"


def test_properties_nested_ten_levels_are_accepted_and_eleven_refused() -> None:
    # `properties` itself is level 1.
    assert prepare(event(properties=nested(10))).properties == nested(10)
    assert rejection(event(properties=nested(11))).code == "nesting_too_deep"
    assert rejection(event(context=nested(11))).code == "nesting_too_deep"
    assert rejection(event(properties=nested(10, leaf=["too deep"]))).code == "nesting_too_deep"


def test_string_longer_than_the_limit_is_refused() -> None:
    assert rejection(event(properties={"text": "x" * (MAX_STRING_CHARS + 1)})).code == "string_too_long"


def test_client_ip_in_the_context_is_checked_like_any_text_and_kept_only_as_its_network() -> None:
    # The IP is consumed by enrichment rather than scrubbed and stored, but a bad one still refuses the event.
    refused = rejection(event(context={"ip": "203.0.113.77" + "7" * MAX_STRING_CHARS}))
    assert (refused.code, refused.problems[0].field) == ("string_too_long", "context.ip")
    kept = prepare(event(context={"ip": "203.0.113.77", "locale": "en-IN"}))
    assert (kept.ip_prefix, kept.context) == ("203.0.113.0/24", {"locale": "en-IN"})
    # An IPv4-mapped address written in hex is its IPv4 address's network, as the tracking plan says.
    assert prepare(event(context={"ip": "::ffff:c633:6409"})).ip_prefix == "198.51.100.0/24"


@pytest.mark.parametrize(
    "fields",
    [
        {"properties": {"note": "a\x00b"}},
        {"properties": {"a\x00b": "note"}},
        {"context": {"deep": [{"note": "\x00"}]}},
        {"context": {"ip": "203.0.113.77\x00"}},
        {"user_id": "user\x00-1"},
        {"anonymous_id": "anon\x00"},
        {"session_id": "sess\x00"},
    ],
    ids=["value", "key", "context", "context-ip", "user_id", "anonymous_id", "session_id"],
)
def test_nul_character_anywhere_is_refused(fields: dict[str, Any]) -> None:
    assert rejection(event(**fields)).code == "invalid_characters"


@pytest.mark.parametrize(
    "fields",
    [
        {"properties": {"note": "bad \ud800 text"}},
        {"properties": {"\udc00": "key"}},
        {"context": {"ip": "203.0.113.77\ud800"}},
        {"user_id": "user-\ud800"},
        {"anonymous_id": "\udfff"},
        {"session_id": "s\ud83d"},
    ],
    ids=["value", "key", "context-ip", "user_id", "anonymous_id", "session_id"],
)
def test_lone_surrogate_anywhere_is_refused(fields: dict[str, Any]) -> None:
    # JSON cannot bring these in (orjson refuses "\ud800"), but the in-process tracker can.
    assert rejection(event(**fields)).code == "invalid_characters"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity")])
def test_non_finite_amount_from_the_tracker_is_refused(value: Any) -> None:
    assert rejection(payment_event(amount=value)).code == "invalid_number"


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_integer_beyond_64_bits_is_refused(value: int) -> None:
    # PostgreSQL's insert path serialises with orjson, which cannot encode these.
    assert rejection(event(properties={"count": value})).code == "invalid_number"


@pytest.mark.parametrize("amount", ["499", -1, True, None, [1]])
def test_payment_amount_must_be_a_non_negative_number(amount: Any) -> None:
    assert rejection(payment_event(amount=amount)).code == "invalid_property"


def test_payment_event_missing_required_property_names_it() -> None:
    raw = payment_event()
    del raw["properties"]["currency"]
    error = rejection(raw)
    assert error.code == "invalid_property"
    assert any(p.field == "properties.currency" for p in error.problems)


def test_payment_completed_carries_revenue_and_refund_is_negative() -> None:
    assert prepare(payment_event(amount=499.5)).revenue_impact == Decimal("499.50")
    assert prepare(payment_event(name="payment_refunded", amount=100)).revenue_impact == Decimal("-100.00")


def test_canonical_event_gets_the_tracking_plans_type() -> None:
    prepared = prepare(event(event_name="event_viewed", event_type="custom", properties={"listing_id": "L1"}))
    assert prepared.event_type == "page_view"
    assert prepared.listing_id == "L1"


def test_event_id_is_accepted_as_the_listing_id() -> None:
    prepared = prepare(event(event_name="event_viewed", properties={"event_id": 42}))
    assert prepared.listing_id == "42"
    assert "event_id" not in prepared.properties


@pytest.mark.parametrize("properties", [["a"], "text", 5])
def test_properties_that_are_not_an_object_are_refused(properties: Any) -> None:
    assert rejection(event(properties=properties)).code == "invalid_field"


def test_event_that_is_not_an_object_is_refused() -> None:
    assert rejection(["event_name", "x"]).code == "invalid_event"


def test_real_browser_user_agent_is_parsed_by_ua_parser() -> None:
    desktop = prepare(event(), request=RequestContext(received_at=RECEIVED, user_agent=CHROME_ON_WINDOWS))
    assert (desktop.device_type, desktop.browser, desktop.os) == ("desktop", "Chrome 120", "Windows 10")
    phone = prepare(event(context={"user_agent": SAFARI_ON_IPHONE}))
    assert (phone.device_type, phone.browser, phone.os) == ("mobile", "Mobile Safari 17", "iOS 17")
    assert "user_agent" not in phone.context


@pytest.mark.parametrize(
    ("ip", "fingerprint"),
    [
        ("203.0.113.77", "a46eab8418b606d087717ad0de0984e6"),
        ("2001:db8:1:2::5", "4590a0a9926d86fbf644321dfc30a8a8"),
        ("::ffff:198.51.100.9", "adf9475f1fc0178abc6ebdc5b82560f1"),
        ("::ffff:c633:6409", "c156d7cecea3e85e9e66a6a333c9c6b0"),
        (" 203.0.113.77 ", "909bf75e0c4ad0638e3c3da0be01582a"),
        ("ip 198.51.100.7 or priya@example.in", "ac00ae93c9c0672eb003feb1f9c184dc"),
        (7, "9f471740bb0f0f713f276d997558d49a"),
        (None, "bc2b6f4b5c825d5d37d78078c11a1c94"),
    ],
)
def test_fingerprint_of_an_event_with_a_client_ip_is_the_one_earlier_releases_stored(ip: Any, fingerprint: str) -> None:
    # Computed by the release before the client IP left the scrubbing walk: a replay sent across the upgrade must
    # still be recognised as a duplicate, not refused as a uuid conflict.
    context: dict[str, Any] = {"user_agent": "curl/8.0", "locale": "en-IN", "app": {"version": "4.12.0"}}
    if ip is not None:
        context["ip"] = ip
    raw = {
        "uuid": "6f1c1b3e-5b7a-4f43-9d0a-2f1f6c1d9a10",
        "event_name": "page_view",
        "user_id": "u-1",
        "timestamp": "2026-03-10T11:00:00Z",
        "properties": {"path": "/home"},
        "context": context,
    }
    request = RequestContext(received_at=datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert prepare(raw, request=request).payload_hash == fingerprint


def test_payload_hash_ignores_sent_at_but_not_properties() -> None:
    raw = event(timestamp="2026-03-10T11:00:00Z")
    same = prepare({**raw, "sent_at": "2026-03-10T11:59:00Z"})
    assert prepare(raw).payload_hash == same.payload_hash
    assert prepare({**raw, "properties": {"button": "leave"}}).payload_hash != same.payload_hash
