"""The one beat schedule of the service."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def beat_schedule() -> dict[str, dict[str, Any]]:
    return {
        # The sweeper: processes whatever a lost message left behind (processed_at IS NULL).
        "sweep-unprocessed-events": {
            "task": "analytics.tasks.processing.process_new_events",
            "schedule": settings.ANALYTICS_SWEEP_INTERVAL_SECONDS,
            "options": {"queue": "ingest", "expires": settings.ANALYTICS_SWEEP_INTERVAL_SECONDS * 5},
        },
        # PostHog forwarding: drains the outbox (a no-op while POSTHOG_API_KEY is unset).
        "forward-to-posthog": {
            "task": "analytics.tasks.forwarding.forward_to_posthog",
            "schedule": 15.0,
            "options": {"queue": "default", "expires": 60},
        },
    }
