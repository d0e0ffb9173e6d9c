"""The signal bridge on the host app's models: every mapping fires once per real transition, after
commit, never on a re-save, never for a rolled-back change, never with a raw phone number."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from analytics.collection.buffer import EventBuffer, event_buffer
from analytics.collection.signal_bridge import build_bridges, parse_mapping
from analytics.models import FailedEvent, UserEvent
from tests.assertions import row_text
from tests.hostapp.bridge import SIGNAL_BRIDGE
from tests.hostapp.models import AttendanceRecord, JoinRequest, Listing, PaymentOrder, PhoneOTP, Profile
from tests.hostapp.outage import analytics_store_down

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
PHONE = "+91 98765 43210"
PHONE_DIGITS = ("98765", "43210", "9876543210")
STARTS = datetime(2026, 5, 1, 19, 0, tzinfo=UTC)


class Rollback(Exception):
    pass


@pytest.fixture
def buffer() -> Iterator[EventBuffer]:
    buffer = event_buffer()
    assert buffer.flush(timeout=10)
    UserEvent.objects.all().delete()  # anything an earlier test left behind
    yield buffer
    buffer.flush(timeout=10)


def fired(buffer: EventBuffer) -> list[str]:
    """Names of the bridge's events stored so far, oldest first."""
    assert buffer.flush(timeout=10)
    return list(UserEvent.objects.filter(source="signal").order_by("id").values_list("event_name", flat=True))


def stored(name: str) -> UserEvent:
    assert event_buffer().flush(timeout=10)
    return UserEvent.objects.get(source="signal", event_name=name)


def listing(**fields: Any) -> Listing:
    values: dict[str, Any] = {
        "host_id": "host-1",
        "title": "Rooftop jazz night",
        "category": "music",
        "city": "Bengaluru",
        "price": Decimal("499.00"),
        "capacity": 40,
        "starts_at": STARTS,
        "status": "published",
    }
    values.update(fields)
    return Listing.objects.create(**values)


def order(**fields: Any) -> PaymentOrder:
    values: dict[str, Any] = {
        "listing": fields.pop("listing", None) or listing(status="draft"),
        "user_id": "u-1",
        "amount": Decimal("499.00"),
    }
    values.update(fields)
    return PaymentOrder.objects.create(**values)


def reload(instance: Any) -> Any:
    return type(instance).objects.get(pk=instance.pk)


def move(instance: Any, **changes: Any) -> Any:
    """Load a fresh copy (as a request would), change it and save it."""
    fresh = reload(instance)
    for name, value in changes.items():
        setattr(fresh, name, value)
    fresh.save()
    return fresh


# --- every mapping -------------------------------------------------------------------------------


def _listing_published_then_cancelled() -> None:
    draft = listing(status="draft")
    move(draft, status="published")
    move(draft, status="cancelled")


def _join_request_accepted() -> None:
    request = JoinRequest.objects.create(listing=listing(status="draft"), user_id="u-2", seats=2)
    move(request, status="accepted")


def _join_request_declined() -> None:
    request = JoinRequest.objects.create(listing=listing(status="draft"), user_id="u-2")
    move(request, status="declined")


def _payment_paid_then_refunded() -> None:
    paid = order(listing=listing(status="draft"))
    move(paid, status="paid")
    move(paid, status="refunded")


def _payment_failed() -> None:
    move(order(listing=listing(status="draft")), status="failed", failure_reason="card_declined")


def _attendance_check_in_and_out() -> None:
    record = AttendanceRecord.objects.create(listing=listing(status="draft"), user_id="u-3", seats=2)
    now = datetime.now(UTC)
    move(record, checked_in_at=now - timedelta(hours=2))
    move(record, checked_out_at=now)


def _profile_verified() -> None:
    profile = Profile.objects.create(user_id="u-4", display_name="Priya", city="Pune", phone_number=PHONE)
    move(profile, is_verified=True)


def _phone_otp_sent_and_verified() -> None:
    otp = PhoneOTP.objects.create(user_id="u-5", phone=PHONE, code="482913")
    move(otp, verified=True)


SCENARIOS: dict[str, tuple[Callable[[], None], list[str]]] = {
    "listing": (_listing_published_then_cancelled, ["event_created", "event_cancelled"]),
    "join-accepted": (_join_request_accepted, ["event_requested", "event_request_accepted"]),
    "join-declined": (_join_request_declined, ["event_requested", "event_request_declined"]),
    "payment-paid-refunded": (
        _payment_paid_then_refunded,
        ["payment_initiated", "payment_completed", "payment_refunded"],
    ),
    "payment-failed": (_payment_failed, ["payment_initiated", "payment_failed"]),
    "attendance": (_attendance_check_in_and_out, ["event_checked_in", "event_checked_out"]),
    "profile": (_profile_verified, ["profile_updated"]),
    "phone-otp": (_phone_otp_sent_and_verified, ["otp_generated", "otp_verified"]),
}


def test_the_scenarios_cover_every_mapping_of_the_host_setting() -> None:
    configured = set()
    for mapping in SIGNAL_BRIDGE:
        configured.update(mapping.get("transitions", {}).values())
        if mapping.get("on_set"):
            configured.add(mapping["on_set"])
    covered = {name for _, names in SCENARIOS.values() for name in names}
    assert covered == configured


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_mapping_fires_once_per_transition_and_every_event_is_stored(buffer: EventBuffer, scenario: str) -> None:
    act, expected = SCENARIOS[scenario]
    act()
    assert fired(buffer) == expected
    assert FailedEvent.objects.count() == 0  # each event passed the tracking plan


def test_creation_into_a_mapped_state_counts_and_into_an_unmapped_one_does_not(buffer: EventBuffer) -> None:
    listing(status="published")
    listing(status="draft")
    assert fired(buffer) == ["event_created"]


def test_event_created_carries_the_tracking_plan_properties(buffer: EventBuffer) -> None:
    created = listing()
    assert fired(buffer) == ["event_created"]
    row = stored("event_created")
    assert row.user_id == "host-1"
    assert row.listing_id == str(created.pk)
    assert row.host_id == "host-1"
    assert row.properties["category"] == "music"
    assert row.properties["price"] == 499.0
    assert row.properties["currency"] == "INR"
    assert row.properties["capacity"] == 40
    assert datetime.fromisoformat(row.properties["starts_at"]) == STARTS
    assert row.context["library"] == {"name": "loopin-analytics-signal-bridge", "model": "hostapp.Listing"}


def test_payment_events_carry_order_amount_and_revenue(buffer: EventBuffer) -> None:
    paid = order()
    move(paid, status="paid")
    row = stored("payment_completed")
    assert (row.user_id, row.properties["order_id"], row.listing_id) == (
        "u-1",
        str(paid.pk),
        str(paid.listing_id),
    )
    assert (row.properties["amount"], row.currency, row.revenue_impact) == (499.0, "INR", Decimal("499.00"))
    assert "failure_reason" not in row.properties
    move(paid, status="failed", failure_reason="insufficient_funds")
    assert stored("payment_failed").properties["failure_reason"] == "insufficient_funds"


def test_check_in_is_timed_by_the_check_in(buffer: EventBuffer) -> None:
    at = datetime(2026, 5, 1, 19, 5, tzinfo=UTC)
    record = AttendanceRecord.objects.create(listing=listing(status="draft"), user_id="u-3")
    move(record, checked_in_at=at)
    row = stored("event_checked_in")
    assert (row.timestamp, row.properties["seats"], row.user_id) == (at, 1, "u-3")


def test_profile_update_counts_completed_fields_and_never_the_phone(buffer: EventBuffer) -> None:
    _profile_verified()
    row = stored("profile_updated")
    assert row.properties["fields_completed"] == ["display_name", "city"]
    assert row.properties["is_verified"] is True


# --- only real transitions -----------------------------------------------------------------------


def test_resaves_without_a_change_fire_nothing(buffer: EventBuffer) -> None:
    for act, _ in SCENARIOS.values():
        act()
    before = fired(buffer)
    for model in (Listing, JoinRequest, PaymentOrder, AttendanceRecord, Profile, PhoneOTP):
        for instance in model.objects.all():
            instance.save()
            instance.save()
    assert fired(buffer) == before


def test_saving_other_fields_fires_nothing(buffer: EventBuffer) -> None:
    paid = move(order(), status="paid")
    paid.note = "gift for a friend"
    paid.save()
    paid.amount = Decimal("450.00")
    paid.save(update_fields=["amount"])
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


def test_a_stale_instance_refreshed_after_another_transition_does_not_fire_again(buffer: EventBuffer) -> None:
    original = order()
    first, second = reload(original), reload(original)
    first.status = "paid"
    first.save()
    second.refresh_from_db()
    second.save()
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


def test_a_state_change_outside_update_fields_is_not_written_and_does_not_fire(buffer: EventBuffer) -> None:
    pending = reload(order())
    pending.status = "paid"
    pending.note = "n"
    pending.save(update_fields=["note"])
    assert fired(buffer) == ["payment_initiated"]
    pending.save()
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


def test_a_deferred_state_field_is_checked_against_the_stored_row(buffer: EventBuffer) -> None:
    created = order()
    deferred = PaymentOrder.objects.only("id", "note").get(pk=created.pk)
    deferred.status = "paid"
    deferred.save()
    again = PaymentOrder.objects.only("id", "note").get(pk=created.pk)
    again.status = "paid"
    again.save()
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


# --- transactions --------------------------------------------------------------------------------


def test_events_are_handed_over_only_after_the_commit(buffer: EventBuffer) -> None:
    pending = order()
    assert fired(buffer) == ["payment_initiated"]
    with transaction.atomic():
        move(pending, status="paid")
        assert [raw["event_name"] for _, raw in buffer.pending_events()] == []
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


def test_a_rolled_back_transaction_fires_nothing_and_a_retry_fires_once(buffer: EventBuffer) -> None:
    pending = order()
    retry = reload(pending)
    with pytest.raises(Rollback), transaction.atomic():
        retry.status = "paid"
        retry.save()
        raise Rollback
    assert reload(pending).status == "created"
    assert fired(buffer) == ["payment_initiated"]
    retry.save()  # the same change, committed this time
    retry.save()
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


def test_a_rolled_back_savepoint_fires_nothing_while_the_outer_commit_fires(buffer: EventBuffer) -> None:
    with transaction.atomic():
        first = order()
        with pytest.raises(Rollback), transaction.atomic():
            move(first, status="failed", failure_reason="timeout")
            raise Rollback
        move(first, status="paid")
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


def test_the_analytics_store_down_never_fails_the_host_transaction(buffer: EventBuffer) -> None:
    with analytics_store_down():
        with transaction.atomic():
            paid = order()
            move(paid, status="paid")
        assert reload(paid).status == "paid"  # the host's change committed
        assert buffer.flush(timeout=2) is False  # the events wait in the buffer
    assert fired(buffer) == ["payment_initiated", "payment_completed"]


# --- phone numbers -------------------------------------------------------------------------------


def test_no_raw_phone_number_or_otp_code_is_ever_stored(buffer: EventBuffer) -> None:
    for act, _ in SCENARIOS.values():
        act()
    # A phone number typed into a mapped free-text field is scrubbed by the pipeline.
    move(order(note=f"call me on {PHONE}"), status="paid")
    assert fired(buffer)
    rows = [*UserEvent.objects.all(), *FailedEvent.objects.all()]
    assert rows
    for row in rows:
        text = row_text(row)
        assert not any(digits in text for digits in PHONE_DIGITS), text
        assert "482913" not in text
    notes = [row.properties.get("note", "") for row in UserEvent.objects.filter(event_name="payment_completed")]
    assert any("[phone]" in note for note in notes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "properties": {
                    "fields_completed": "display_name",
                    "is_verified": "is_verified",
                    "p": "phone_number",
                }
            },
            "phone/secret",
        ),
        ({"user_id": "phone_number"}, "phone/secret"),
        ({"field": "phone_number"}, "phone/secret"),
        (
            {
                "properties": {
                    "fields_completed": "display_name",
                    "is_verified": "is_verified",
                    "mobile": "city",
                }
            },
            "phone/secret",
        ),
        ({"properties": {"is_verified": "is_verified"}}, "requires properties ['fields_completed']"),
        ({"model": "hostapp.Nothing"}, "unknown model"),
        ({"field": "nope"}, "has no field 'nope'"),
        ({"transitions": {True: "bad name!"}}, "not a valid event name"),
        ({"transitions": {}}, "give 'transitions'"),
        ({"colour": "blue"}, "unknown keys"),
    ],
    ids=[
        "phone-property",
        "phone-user-id",
        "phone-state-field",
        "phone-property-name",
        "missing-required",
        "unknown-model",
        "unknown-field",
        "bad-event-name",
        "no-transitions",
        "unknown-key",
    ],
)
def test_a_mapping_that_could_leak_a_phone_or_break_the_plan_is_refused(change: dict[str, Any], message: str) -> None:
    raw = {
        "model": "hostapp.Profile",
        "field": "is_verified",
        "transitions": {True: "profile_updated"},
        "user_id": "user_id",
        "properties": {"fields_completed": "display_name", "is_verified": "is_verified"},
        **change,
    }
    with pytest.raises(ImproperlyConfigured, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_mapping(raw, 0)


def test_the_host_setting_parses_into_one_bridge_per_model() -> None:
    bridges = build_bridges(SIGNAL_BRIDGE)
    assert sorted(b.model.__name__ for b in bridges) == sorted(
        ["Listing", "JoinRequest", "PaymentOrder", "AttendanceRecord", "Profile", "PhoneOTP"]
    )


def test_the_service_alone_connects_no_bridge() -> None:
    """The analytics service's own settings have an empty bridge: nothing is imported or connected."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, django; django.setup(); print('analytics.collection.signal_bridge' in sys.modules)",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "loopin_backend.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
