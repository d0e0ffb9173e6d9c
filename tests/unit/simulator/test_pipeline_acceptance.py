"""Every simulated event passes the ingestion pipeline unchanged: validated, scrubbed, never rejected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.collection.tracking_plan import TRACKING_PLAN
from analytics.models import FailedEvent, UserEvent
from analytics.models.events import EventSource
from analytics.privacy.encryption import properties_decrypt
from analytics.simulator import config_build
from analytics.simulator.behaviour.engine import Simulation
from tests.unit.simulator.conftest import END_DATE, TODAY, Run, truth_of

pytestmark = pytest.mark.django_db

# Canonical events a few weeks of a small platform may not produce (rare by design).
RARE = {
    "user_identified",
    "payment_chargeback",
    "event_cancelled",
    "payment_refunded",
    "feedback_submitted",
    "event_request_declined",
    "payment_failed",
    "app_error",
    "event_updated",
}


def test_every_generated_event_is_stored_and_none_rejected(run: Run) -> None:
    report = run(users=120, days=28)
    assert report.delivery.rejected == 0, report.delivery.examples
    assert report.delivery.dropped == 0
    assert report.delivery.stored == report.events == UserEvent.objects.count()
    assert not FailedEvent.objects.exists()
    assert set(UserEvent.objects.values_list("source", flat=True).distinct()) == {EventSource.SIMULATOR}
    assert not UserEvent.objects.filter(processed_at__isnull=True).exists()


def test_the_simulation_covers_the_tracking_plan(run: Run) -> None:
    run(users=600, days=42, batch_size=5000)
    names = set(UserEvent.objects.values_list("event_name", flat=True).distinct())
    missing = set(TRACKING_PLAN) - RARE - names
    assert not missing, missing


def test_scrubbing_finds_nothing_to_change_in_simulated_properties(run: Run) -> None:
    """No false positives: review texts (decrypted), ids, paths and dates reach the table as sent."""
    run(users=80, days=21)
    config = config_build(users=80, days=21, seed=11, end_date=END_DATE, time_zone="Asia/Kolkata", today=TODAY)
    sent = {e["uuid"]: e for events, _ in Simulation(config).days() for e in events}
    stored = dict(UserEvent.objects.values_list("uuid", "properties"))
    assert len(stored) == len(sent)
    for uuid, properties in stored.items():
        assert properties_decrypt(properties) == sent[str(uuid)]["properties"], sent[str(uuid)]


def test_timestamps_are_aware_utc_inside_the_window(run: Run) -> None:
    report = run()
    truth = truth_of(report)
    start = datetime.fromisoformat(truth["parameters"]["window_start"])
    end = datetime.fromisoformat(truth["parameters"]["window_end"])
    first = UserEvent.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
    last = UserEvent.objects.order_by("-timestamp").values_list("timestamp", flat=True).first()
    assert first is not None and last is not None
    assert first.tzinfo is not None and first.utcoffset() == UTC.utcoffset(None)
    assert start <= first and last < end


def test_sessions_follow_local_habits(run: Run) -> None:
    """Most sessions happen in the waking hours of the business time zone, not of UTC. About 7% of
    sessions fall between 02:00 and 07:00 local on large platforms (habits scatter around evening peaks);
    on these 100 users a few night owls weigh more, so the bound is 15%. Habits read in UTC would put
    the evening peaks (19:00-22:00 local) at 00:30-03:30 and most sessions in that band."""
    from zoneinfo import ZoneInfo

    run(users=100, days=21)
    zone = ZoneInfo("Asia/Kolkata")
    hours = [
        t.astimezone(zone).hour
        for t in UserEvent.objects.filter(event_name="page_view", properties__screen="home").values_list(
            "timestamp", flat=True
        )
    ]
    night = sum(1 for hour in hours if 2 <= hour < 7)
    assert len(hours) > 100 and night / len(hours) < 0.15


def test_the_bulk_load_leaves_the_connection_settings_as_it_found_them(run: Run) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the WAL checkpoint tuning applies to SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = cursor.fetchone()
    run()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone() == before
