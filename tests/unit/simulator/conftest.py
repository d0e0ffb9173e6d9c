"""Simulator fixtures: small simulations (tens of users, a few weeks) sent through the real pipeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from analytics.models import UserEvent
from analytics.simulator import SimulationReport, config_build, simulation_run
from analytics.simulator.sinks import InProcessSink, Sink

END_DATE = "2026-02-01"
TODAY = date(2026, 6, 1)
SNAPSHOT_FIELDS = (
    "uuid",
    "payload_hash",
    "event_type",
    "event_name",
    "user_id",
    "anonymous_id",
    "session_id",
    "timestamp",
    "properties",
    "context",
    "page_path",
    "device_type",
    "browser",
    "os",
    "city",
    "country",
    "status_code",
    "response_time_ms",
    "listing_id",
    "host_id",
    "revenue_impact",
    "currency",
)

Run = Callable[..., SimulationReport]


def simulate(
    *,
    data_dir: Path,
    users: int = 60,
    days: int = 14,
    seed: int = 11,
    anomalies: bool = False,
    sink: Sink | None = None,
    batch_size: int = 1000,
    defer_processing: bool = True,
) -> SimulationReport:
    config = config_build(
        users=users,
        days=days,
        seed=seed,
        end_date=END_DATE,
        time_zone="Asia/Kolkata",
        today=TODAY,
        anomalies=anomalies,
        batch_size=batch_size,
    )
    return simulation_run(
        config=config,
        sink=sink or InProcessSink(),
        data_dir=data_dir,
        progress=False,
        defer_processing=defer_processing,
    )


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """`run(users=…, days=…, seed=…)`: simulate in-process into the test database, truth into tmp_path."""

    def _run(**options: Any) -> SimulationReport:
        options.setdefault("data_dir", tmp_path)
        return simulate(**options)

    return _run


def truth_of(report: SimulationReport) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(report.truth_path.read_bytes())
    return loaded


def stored_rows() -> list[tuple[Any, ...]]:
    """Every stored tracked event, minus what only says when it was received or processed, its encrypted
    texts in clear (a Fernet token differs on every encryption of the same text)."""
    from analytics.privacy.encryption import properties_decrypt

    at = SNAPSHOT_FIELDS.index("properties")
    rows = (
        (*row[:at], properties_decrypt(row[at]), *row[at + 1 :])
        for row in UserEvent.objects.values_list(*SNAPSHOT_FIELDS)
    )
    return sorted(rows, key=lambda row: str(row[0]))


def wipe_analytics_tables() -> None:
    """A fresh database for the next run or module: the tracked events and everything derived from them
    (a module fixture commits its platform; what it leaves behind would leak into later modules)."""
    from analytics import models as m

    for model in (
        m.UserEvent,
        m.FailedEvent,
        m.Session,
        m.SessionCursor,
        m.IdentityLink,
        m.EventListing,
        m.DailyUserActivity,
        m.DailyUserEvent,
        m.DailyEventRollup,
        m.DailyFunnelReach,
        m.UserFirstActivity,
        m.MetricDirtyDay,
        m.BusinessMetric,
        m.UserPrediction,
        m.ListingAttendanceForecast,
        m.RevenueForecast,
        m.DetectedAnomaly,
        m.Alert,
        m.PredictionModel,
        m.UserBehaviorProfile,
        m.UserPersona,
    ):
        model.objects.all().delete()
