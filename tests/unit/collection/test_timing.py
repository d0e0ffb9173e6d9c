"""Event time: clock skew correction, clamping, refusal, and UTC storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from analytics.collection.envelope import RequestContext
from analytics.collection.pipeline import event_ingest
from analytics.collection.timing import TimeProblem, event_time
from analytics.models import UserEvent
from tests.factories import event

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def iso(instant: datetime) -> str:
    return instant.isoformat()


def corrected(timestamp: Any, sent_at: Any = None) -> datetime:
    return event_time(timestamp=timestamp, sent_at=sent_at, received_at=NOW)[0]


def test_client_clock_two_hours_behind_is_corrected_with_sent_at() -> None:
    client_now = NOW - timedelta(hours=2)
    happened = corrected(iso(client_now - timedelta(minutes=5)), iso(client_now))
    assert happened == NOW - timedelta(minutes=5)


def test_client_clock_ahead_is_corrected_with_sent_at() -> None:
    client_now = NOW + timedelta(hours=3)
    assert corrected(iso(client_now - timedelta(minutes=1)), iso(client_now)) == NOW - timedelta(minutes=1)


def test_no_timestamp_means_received_at() -> None:
    assert corrected(None) == NOW


def test_timestamp_up_to_one_hour_ahead_is_kept() -> None:
    assert corrected(iso(NOW + timedelta(hours=1))) == NOW + timedelta(hours=1)


@pytest.mark.parametrize("ahead", [timedelta(hours=1, seconds=1), timedelta(hours=2), timedelta(days=364)])
def test_timestamp_more_than_one_hour_ahead_is_clamped_to_received_at(ahead: timedelta) -> None:
    assert corrected(iso(NOW + ahead)) == NOW


def test_clamp_applies_after_skew_correction() -> None:
    client_now = NOW - timedelta(hours=2)
    # 3 h ahead of the (slow) client clock is 3 h ahead of the server after correction.
    assert corrected(iso(client_now + timedelta(hours=3)), iso(client_now)) == NOW


@pytest.mark.parametrize(
    "timestamp",
    [
        "1999-12-31T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",
        iso(NOW + timedelta(days=366)),
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-05:00",
    ],
)
def test_timestamp_before_2000_or_over_a_year_ahead_is_refused(timestamp: str) -> None:
    with pytest.raises(TimeProblem) as caught:
        corrected(timestamp)
    assert caught.value.code == "timestamp_out_of_range"


def test_skew_correction_that_lands_over_a_year_ahead_is_refused() -> None:
    with pytest.raises(TimeProblem) as caught:
        corrected(iso(NOW + timedelta(days=300)), iso(NOW - timedelta(days=100)))
    assert caught.value.code == "timestamp_out_of_range"


def test_year_2000_boundary_is_accepted() -> None:
    assert corrected("2000-01-01T00:00:00Z") == datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("timestamp", ["yesterday", "10/03/2026 12:00", "2026-13-01T00:00:00Z", "2026-03-10T25:00", ""])
def test_timestamp_that_is_not_iso_8601_is_refused(timestamp: str) -> None:
    with pytest.raises(TimeProblem) as caught:
        corrected(timestamp)
    assert caught.value.code == "invalid_timestamp"


def test_offsets_are_converted_to_utc_and_naive_read_as_utc() -> None:
    assert corrected("2026-03-10T17:00:00+05:30") == datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
    assert corrected("2026-03-10T11:30:00") == datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
    assert corrected("2026-03-10T11:30:00+05:30").utcoffset() == timedelta(0)


# --- through the pipeline: what is stored ---------------------------------------------------


def ingest(*raws: dict[str, Any]) -> Any:
    return event_ingest(batch=list(raws), source="tracker", request=RequestContext(received_at=NOW))


@pytest.mark.django_db
def test_stored_times_are_timezone_aware_utc() -> None:
    raw = event(timestamp="2026-03-10T17:00:00+05:30", sent_at="2026-03-10T17:29:00+05:30")
    assert ingest(raw).stored == 1
    row = UserEvent.objects.get(uuid=raw["uuid"])
    for value in (row.timestamp, row.received_at, row.sent_at):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    # The client's clock was 1 min behind: happened 11:30 client time + 1 min.
    assert row.timestamp == datetime(2026, 3, 10, 11, 31, tzinfo=UTC)
    assert row.received_at == NOW
    assert row.sent_at == datetime(2026, 3, 10, 11, 59, tzinfo=UTC)


@pytest.mark.django_db
def test_tracker_datetime_with_offset_is_stored_as_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    raw = event(timestamp=datetime(2026, 3, 10, 17, 0, tzinfo=ist))
    assert ingest(raw).stored == 1
    assert UserEvent.objects.get(uuid=raw["uuid"]).timestamp == datetime(2026, 3, 10, 11, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_future_timestamp_is_stored_clamped_to_received_at() -> None:
    raw = event(timestamp=iso(NOW + timedelta(days=30)))
    assert ingest(raw).stored == 1
    assert UserEvent.objects.get(uuid=raw["uuid"]).timestamp == NOW


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"timestamp": "0001-01-01T00:00:00Z"}, "timestamp_out_of_range"),
        ({"timestamp": "9999-12-31T23:59:59Z"}, "timestamp_out_of_range"),
        ({"timestamp": "not a time"}, "invalid_timestamp"),
        ({"sent_at": "9999-12-31T23:59:59Z"}, "timestamp_out_of_range"),
        ({"timestamp": 1773144000}, "invalid_field"),  # an epoch number is not ISO 8601
        ({"sent_at": 1773144000.5}, "invalid_field"),
        ({"timestamp": {"at": "2026-03-10"}}, "invalid_field"),
    ],
)
def test_bad_times_are_rejected_and_nothing_is_stored(fields: dict[str, Any], reason: str) -> None:
    result = ingest(event(**fields))
    assert result.rejected == 1
    assert result.outcomes[0].reason == reason
    assert UserEvent.objects.count() == 0
