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
    }
