"""Event time: parsed, corrected for client clock skew, clamped or refused (docs/tracking-plan.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_CLAMP = timedelta(hours=1)
FUTURE_LIMIT = timedelta(days=365)


class TimeProblem(ValueError):
    def __init__(self, field_name: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.code = code
        self.message = message


def parse_instant(field_name: str, value: object) -> datetime:
    """An ISO 8601 string (or aware datetime) as aware UTC; naive values are read as UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        if "\x00" in value:  # fromisoformat takes any character as the date-time separator, NUL included
            raise TimeProblem(field_name, "invalid_characters", f"'{field_name}' contains a NUL character")
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise TimeProblem(field_name, "invalid_timestamp", f"'{field_name}' is not ISO 8601") from exc
    else:
        raise TimeProblem(field_name, "invalid_timestamp", f"'{field_name}' must be an ISO 8601 string")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise TimeProblem(field_name, "timestamp_out_of_range", f"'{field_name}' is out of range") from exc


@lru_cache(maxsize=16)
def _horizon(received_at: datetime, days: int) -> datetime:
    """The retention horizon at `received_at` (`days` is the setting it was computed with): every event of a
    batch shares its `received_at`, so it is worked out once a batch instead of once an event."""
    from analytics.privacy.retention import events_horizon  # here: retention imports the metrics package

    return events_horizon(received_at)


def _check_range(field_name: str, instant: datetime, received_at: datetime) -> None:
    if instant < EARLIEST:
        raise TimeProblem(field_name, "timestamp_out_of_range", f"'{field_name}' is before 2000-01-01")
    if instant > received_at + FUTURE_LIMIT:
        raise TimeProblem(field_name, "timestamp_out_of_range", f"'{field_name}' is more than a year ahead")


def event_time(*, timestamp: object, sent_at: object, received_at: datetime) -> tuple[datetime, datetime | None]:
    """(when it happened, when the client sent it), both aware UTC.

    With `sent_at`, the client's clock offset (`received_at - sent_at`) is added to `timestamp`.
    After correction: before 2000-01-01 or more than a year ahead → refused; more than an hour
    ahead → clamped to `received_at`; before the retention horizon (the business day
    `ANALYTICS_RETENTION_DAYS` ago: its events are purged, its metrics frozen) → refused. No timestamp
    means "now" (`received_at`).
    """
    sent = parse_instant("sent_at", sent_at) if sent_at is not None else None
    if sent is not None:
        _check_range("sent_at", sent, received_at)
    if timestamp is None:
        return received_at, sent
    happened = parse_instant("timestamp", timestamp)
    _check_range("timestamp", happened, received_at)
    if sent is not None:
        try:
            happened = happened + (received_at - sent)
        except OverflowError as exc:
            raise TimeProblem("timestamp", "timestamp_out_of_range", "'timestamp' is out of range") from exc
        _check_range("timestamp", happened, received_at)
    if happened > received_at + FUTURE_CLAMP:
        happened = received_at
    if happened < _horizon(received_at, settings.ANALYTICS_RETENTION_DAYS):
        raise TimeProblem(
            "timestamp",
            "older_than_retention",
            f"'timestamp' is older than the retention horizon ({settings.ANALYTICS_RETENTION_DAYS} days)",
        )
    return happened, sent
