"""Tracked events for the integration tests (raw bodies as a client would send them)."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any


def page_view(uuid: str | None = None, *, user_id: str = "u-1", path: str = "/home") -> dict[str, Any]:
    return {
        "uuid": uuid or str(uuid_lib.uuid4()),
        "event_name": "page_view",
        "user_id": user_id,
        "properties": {"path": path},
    }


def listing_created(listing_id: str, *, host_id: str = "h-7") -> dict[str, Any]:
    return {
        "uuid": str(uuid_lib.uuid4()),
        "event_name": "event_created",
        "user_id": host_id,
        "timestamp": "2026-03-01T10:00:00Z",
        "properties": {
            "listing_id": listing_id,
            "host_id": host_id,
            "category": "music",
            "city": "Bengaluru",
            "price": 499.5,
            "currency": "INR",
            "capacity": 40,
            "starts_at": "2026-04-01T18:30:00+05:30",
        },
    }


def platform_until_today(*, users: int, days: int, seed: int, anomalies: bool = False) -> Any:
    """The simulator's config of a platform whose `days` end today (business time zone), in batches of 5,000."""
    from django.conf import settings

    from analytics.metrics.periods import business_today
    from analytics.simulator import config_build

    return config_build(
        users=users,
        days=days,
        seed=seed,
        end_date=None,
        time_zone=settings.ANALYTICS_TIME_ZONE,
        today=business_today(),
        anomalies=anomalies,
        batch_size=5000,
    )
