"""event_ingest: exactly-once storage, conflicts, per-event rejection, quarantine, every source."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import LazySettings

from analytics.collection.envelope import RequestContext
from analytics.collection.pipeline import IngestResult, event_ingest
from analytics.models import FailedEvent, UserConsent, UserEvent
from analytics.models.events import EventSource
from tests.assertions import row_text
from tests.factories import event, new_uuid, payment_event

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
EMAIL = "priya.sharma@example.com"


def ingest(batch: list[Any], *, source: str = "tracker") -> IngestResult:
    return event_ingest(batch=batch, source=source, request=RequestContext(received_at=NOW))


def statuses(result: IngestResult) -> list[tuple[str, str | None]]:
    return [(o.status, o.reason) for o in result.outcomes]


def assert_counts_add_up(result: IngestResult, sent: int) -> None:
    assert result.stored + result.duplicates + result.rejected + result.dropped == sent
    assert [o.index for o in result.outcomes] == list(range(sent))
    assert all(o.reason for o in result.outcomes if o.status == "rejected")


def test_replayed_batch_stores_each_uuid_once() -> None:
    batch = [event(), event(), event()]
    first = ingest(batch)
    second = ingest(batch)
    assert (first.stored, first.duplicates) == (3, 0)
    assert (second.stored, second.duplicates) == (0, 3)
    assert UserEvent.objects.count() == 3


def test_replay_with_a_new_sent_at_is_still_a_duplicate() -> None:
    raw = event(timestamp="2026-03-10T11:00:00Z", sent_at="2026-03-10T11:00:05Z")
    ingest([raw])
    again = ingest([{**raw, "sent_at": "2026-03-10T11:30:00Z"}])
    assert statuses(again) == [("duplicate", None)]
    assert UserEvent.objects.count() == 1


def test_same_uuid_twice_in_one_batch_is_stored_once_and_reported_duplicate() -> None:
    raw = event()
    result = ingest([raw, dict(raw)])
    assert statuses(result) == [("stored", None), ("duplicate", None)]
    assert UserEvent.objects.filter(uuid=raw["uuid"]).count() == 1


def test_same_uuid_with_different_payload_in_one_batch_is_a_conflict() -> None:
    raw = event(properties={"button": "join"})
    result = ingest([raw, {**raw, "properties": {"button": "leave"}}])
    assert statuses(result) == [("stored", None), ("rejected", "uuid_conflict")]
    assert UserEvent.objects.get(uuid=raw["uuid"]).properties == {"button": "join"}


def test_uuid_conflict_never_overwrites_the_stored_row() -> None:
    raw = event(properties={"button": "join", "plan": "gold"})
    ingest([raw])
    before = UserEvent.objects.get(uuid=raw["uuid"])
    result = ingest([{**raw, "user_id": "someone-else", "properties": {"button": "leave"}}])
    assert statuses(result) == [("rejected", "uuid_conflict")]
    after = UserEvent.objects.get(uuid=raw["uuid"])
    assert after.properties == {"button": "join", "plan": "gold"}
    assert after.user_id == "user-1"
    assert after.payload_hash == before.payload_hash
    failed = FailedEvent.objects.get(reason="uuid_conflict")
    assert failed.event_uuid == raw["uuid"]
    assert failed.payload["properties"] == {"button": "leave"}


def test_copy_of_a_conflicting_event_in_the_same_batch_is_not_reported_stored() -> None:
    raw = event(properties={"button": "join"})
    ingest([raw])
    changed = {**raw, "properties": {"button": "leave"}}
    result = ingest([changed, dict(changed)])
    # Neither copy is stored, so neither may be reported as a (successful) duplicate.
    assert statuses(result) == [("rejected", "uuid_conflict"), ("rejected", "uuid_conflict")]
    assert_counts_add_up(result, 2)
    assert UserEvent.objects.get(uuid=raw["uuid"]).properties == {"button": "join"}


def test_counts_add_up_with_a_reason_for_every_rejection() -> None:
    stored_before = event()
    ingest([stored_before])
    batch = [
        event(),
        stored_before,  # duplicate
        event(event_name=""),  # rejected: missing_field
        event(uuid="nope"),  # rejected: invalid_uuid
        {**stored_before, "properties": {"other": 1}},  # rejected: uuid_conflict
        "not an object",  # rejected: invalid_event
        event(),
    ]
    result = ingest(batch)
    assert_counts_add_up(result, len(batch))
    assert statuses(result) == [
        ("stored", None),
        ("duplicate", None),
        ("rejected", "missing_field"),
        ("rejected", "invalid_uuid"),
        ("rejected", "uuid_conflict"),
        ("rejected", "invalid_event"),
        ("stored", None),
    ]
    assert UserEvent.objects.count() == 3
    assert sorted(FailedEvent.objects.values_list("reason", flat=True)) == sorted(
        ["missing_field", "invalid_uuid", "uuid_conflict", "invalid_event"]
    )


def test_invalid_events_are_rejected_one_by_one_while_the_rest_are_stored() -> None:
    good = [event() for _ in range(5)]
    bad = payment_event(amount=-10)
    result = ingest([*good[:2], bad, *good[2:]])
    assert result.stored == 5 and result.rejected == 1
    assert result.outcomes[2].reason == "invalid_property"
    assert result.outcomes[2].problems[0]["field"] == "properties.amount"
    assert set(UserEvent.objects.values_list("uuid", flat=True)) == {uuid_lib.UUID(e["uuid"]) for e in good}


def test_rejected_payload_is_quarantined_after_the_privacy_scrub() -> None:
    bad = event(
        uuid=new_uuid(),
        event_name="",
        properties={"note": f"write to {EMAIL} or +91 98765 43210", EMAIL: "as a key", "password": "hunter2"},
        context={"ip": "203.0.113.77"},
    )
    result = ingest([bad])
    assert result.rejected == 1
    failed = FailedEvent.objects.get()
    assert failed.reason == "missing_field"
    assert failed.event_uuid == bad["uuid"]
    assert failed.source == "tracker"
    text = row_text(failed)
    for secret in (EMAIL, "98765 43210", "hunter2", "203.0.113.77"):
        assert secret not in text
    assert "[email]" in failed.payload["properties"]["note"]


def test_problem_messages_in_quarantine_do_not_leak_pii_from_field_names() -> None:
    bad = event(properties={EMAIL: "a\x00b"})  # the problem's path names the email key
    assert ingest([bad]).rejected == 1
    assert EMAIL not in row_text(FailedEvent.objects.get())


def test_unknown_field_named_after_an_email_is_not_kept_in_quarantine() -> None:
    assert ingest([event(**{EMAIL: 1})]).outcomes[0].reason == "unknown_field"
    assert EMAIL not in row_text(FailedEvent.objects.get())


def test_rejected_event_with_nul_and_nan_can_still_be_quarantined() -> None:
    bad = payment_event(amount=float("nan"), note="a\x00b", junk="\ud800")
    result = ingest([bad])
    assert result.outcomes[0].reason == "invalid_number"
    failed = FailedEvent.objects.get()
    assert "\x00" not in row_text(failed)
    assert failed.payload["properties"]["amount"] == "nan"


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_non_finite_amount_from_the_tracker_is_rejected_and_nothing_stored(amount: float) -> None:
    result = ingest([payment_event(amount=amount)], source="tracker")
    assert statuses(result) == [("rejected", "invalid_number")]
    assert UserEvent.objects.count() == 0
    assert FailedEvent.objects.get().reason == "invalid_number"


def test_integer_beyond_64_bits_from_the_tracker_is_rejected_not_raised() -> None:
    result = ingest([event(properties={"count": 2**70})])
    assert statuses(result) == [("rejected", "invalid_number")]
    assert UserEvent.objects.count() == 0


@pytest.mark.parametrize("field", ["user_id", "anonymous_id", "session_id"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "lone_surrogate"])
def test_bad_characters_in_ids_from_the_tracker_are_rejected_not_raised(field: str, bad: str) -> None:
    result = ingest([event(**{field: f"id-{bad}"})])
    assert statuses(result) == [("rejected", "invalid_characters")]
    assert UserEvent.objects.count() == 0
    assert bad not in row_text(FailedEvent.objects.get())


@pytest.mark.parametrize("source", [s.value for s in EventSource])
def test_no_step_is_skipped_for_any_source(source: str) -> None:
    good = event(
        properties={
            "note": f"mail {EMAIL}",
            "call": "+91 98765 43210",
            "from": "203.0.113.77",
            "order_id": "9876543210",
        }
    )
    result = ingest([good, payment_event(amount="free"), event(timestamp="0001-01-01T00:00:00Z")], source=source)
    assert statuses(result) == [
        ("stored", None),
        ("rejected", "invalid_property"),
        ("rejected", "timestamp_out_of_range"),
    ]
    row = UserEvent.objects.get(uuid=good["uuid"])
    assert row.source == source
    assert row.properties == {
        "note": "mail [email]",
        "call": "[phone]",
        "from": "203.0.113.0",
        "order_id": "9876543210",
    }
    assert FailedEvent.objects.filter(source=source).count() == 2


def test_disabled_analytics_drops_everything_and_stores_nothing(settings: LazySettings) -> None:
    settings.ANALYTICS_ENABLED = False
    result = ingest([event(), event(event_name="")])
    assert statuses(result) == [("dropped", "analytics_disabled"), ("dropped", "analytics_disabled")]
    assert UserEvent.objects.count() == 0 and FailedEvent.objects.count() == 0


def test_opted_out_users_events_are_dropped_at_the_door() -> None:
    UserConsent.objects.create(user_id="user-out", analytics_opt_out=True, updated_at=NOW)
    result = ingest([event(user_id="user-out"), event(user_id="user-in")])
    assert statuses(result) == [("dropped", "opted_out"), ("stored", None)]
    assert list(UserEvent.objects.values_list("user_id", flat=True)) == ["user-in"]
