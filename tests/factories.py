"""Small factories for tracked-event payloads (raw dicts, as a client would send them)."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime
from typing import Any

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1"
)


def new_uuid() -> str:
    return str(uuid_lib.uuid4())


def event(**fields: Any) -> dict[str, Any]:
    """A valid custom event with a fresh uuid; any field can be overridden (None removes it)."""
    body: dict[str, Any] = {
        "event_name": "button_clicked",
        "uuid": new_uuid(),
        "user_id": "user-1",
        "properties": {"button": "join"},
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def payment_event(*, name: str = "payment_completed", **properties: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"order_id": "ord-1", "listing_id": "lst-1", "amount": 499.0, "currency": "INR"}
    props.update(properties)
    return event(event_name=name, properties=props)


def listing_created(*, listing_id: str, timestamp: datetime | str, **properties: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "listing_id": listing_id,
        "host_id": "host-1",
        "title": "Rooftop jazz night",
        "category": "music",
        "city": "Bengaluru",
        "price": 499,
        "currency": "INR",
        "capacity": 40,
        "starts_at": "2026-04-01T19:00:00+05:30",
    }
    props.update(properties)
    return event(event_name="event_created", user_id="host-1", timestamp=_iso(timestamp), properties=props)


def listing_event(name: str, *, listing_id: str, timestamp: datetime | str, **properties: Any) -> dict[str, Any]:
    """event_updated / event_cancelled for a listing."""
    return event(
        event_name=name,
        user_id="host-1",
        timestamp=_iso(timestamp),
        properties={"listing_id": listing_id, **properties},
    )


def nested(levels: int, leaf: Any = "x") -> Any:
    """`levels` objects nested in one another: nested(2) == {"k": {"k": "x"}}."""
    value = leaf
    for _ in range(levels):
        value = {"k": value}
    return value


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else value
