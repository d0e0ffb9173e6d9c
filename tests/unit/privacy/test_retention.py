"""Retention (privacy issue, §3): with the clock frozen past the limit, the daily task removes the old tracked
events and the per-person rows derived from them, in batches, resumably and idempotently; the anonymous
aggregates and the stored metrics of the purged days stay valid because those days are frozen (no rebuild,
no backfill, no late event recomputes them); each other kind of personal data ages out by its own setting,
and nothing still owed to PostHog is removed by age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.processing import process_pending_events
from analytics.metrics.calculation import metrics_backfill, metrics_calculate_day, metrics_recompute_dirty
from analytics.metrics.dirty import days_mark_dirty
from analytics.metrics.periods import business_day, day_start
from analytics.metrics.rollups import rollups_rebuild
from analytics.models import (
    AuditLog,
    BusinessMetric,
    DailyEventRollup,
    DailyUserActivity,
    FailedEvent,
    ForwardingOutbox,
    MetricDirtyDay,
    RetentionPurge,
    Session,
    UserEvent,
    UserFirstActivity,
    UserPersona,
)
from analytics.privacy import retention
from analytics.privacy.retention import events_horizon, frozen_before, retention_purge
from analytics.tasks import cleanup_old_analytics_data
from analytics.tasks.schedule import beat_schedule
from tests.factories import event
from tests.support.privacy import BATCH, NEW_DAY, OLD_DAY, PURGED_AT, at_day, retention_platform_seed

TRACK = "/api/analytics/events/track"


@pytest.fixture
def platform(client: TestClient, key_headers: dict[str, str], settings: Any) -> Iterator[None]:
    """Two people active on an old day and a recent one, processed and measured; a 120-day retention (the
    least allowed)."""
    settings.ANALYTICS_RETENTION_DAYS = 120
    retention_platform_seed(client, key_headers)
    yield
    clock.freeze(None)


def _metric(name: str, period_type: str, start: date) -> float | None:
    row = BusinessMetric.objects.filter(
        metric_name=name, period_type=period_type, period_start=start, breakdown_key=""
    ).first()
    return None if row is None else float(row.value)


def _dau(day: date) -> float | None:
    return _metric("daily_active_users", "day", day)


def test_the_purge_removes_old_events_and_their_per_person_rows_and_keeps_aggregates(platform: None) -> None:
    """Catches: old events kept, recent ones removed, the per-person daily rows of purged days kept, or the
    anonymous rollups and the stored metrics of those days lost."""
    assert _dau(OLD_DAY) == 2 and DailyEventRollup.objects.filter(day=OLD_DAY).exists()
    clock.freeze(PURGED_AT)

    result = cleanup_old_analytics_data.apply().get()

    assert result["complete"] is True and result["frozen_before"] == "2026-02-24"
    assert result["removed"]["analytics_user_event"] == 4
    assert result["removed"]["analytics_daily_user_activity"] == 2
    assert UserEvent.objects.filter(timestamp__lt=events_horizon()).count() == 0
    assert UserEvent.objects.count() == 4  # the recent day's
    assert not DailyUserActivity.objects.filter(day=OLD_DAY).exists()
    assert DailyUserActivity.objects.filter(day=NEW_DAY).count() == 2
    assert DailyEventRollup.objects.filter(day=OLD_DAY).exists()  # anonymous: counts per event name
    assert _dau(OLD_DAY) == 2
    (run,) = RetentionPurge.objects.all()
    assert run.complete and run.removed == result["removed"]


def test_a_second_run_removes_nothing(platform: None) -> None:
    clock.freeze(PURGED_AT)
    first = retention_purge()
    second = retention_purge()
    assert sum(first.removed.values()) > 0
    assert (second.removed, second.complete) == ({}, True)


def test_purged_days_are_frozen_against_rebuilds_backfills_and_dirty_marks(platform: None) -> None:
    """Catches: a backfill or a rebuild recomputing a purged day from its missing events (its metric would
    drop to 0 and its rollups vanish), or a person active before the horizon counted as new."""
    clock.freeze(PURGED_AT)
    retention_purge()
    assert frozen_before() == date(2026, 2, 24)
    rollups_before = list(DailyEventRollup.objects.filter(day=OLD_DAY).values_list("event_name", "events"))

    metrics_backfill(since=OLD_DAY)
    rollups_rebuild(days=[OLD_DAY])
    metrics_calculate_day(day=OLD_DAY)
    days_mark_dirty(days=[OLD_DAY])

    assert _dau(OLD_DAY) == 2
    assert list(DailyEventRollup.objects.filter(day=OLD_DAY).values_list("event_name", "events")) == rollups_before
    assert not MetricDirtyDay.objects.filter(day=OLD_DAY).exists()
    assert set(UserFirstActivity.objects.values_list("user_id", "first_day")) == {
        ("user-1", OLD_DAY),
        ("user-2", OLD_DAY),
    }
    assert _dau(NEW_DAY) == 2  # the kept days are still computed


def test_a_late_event_on_a_kept_day_leaves_the_periods_reaching_into_purged_days_as_they_were(
    platform: None, client: TestClient, key_headers: dict[str, str]
) -> None:
    """Catches: February's monthly figure recomputed from what is left of it after the purge (1 person
    instead of the 2 measured while its events existed); the kept days' own figures still move."""
    clock.freeze(PURGED_AT)
    retention_purge()
    assert _metric("monthly_active_users", "month", date(2026, 2, 1)) == 2
    late = event(
        event_name="page_view", user_id="user-3", timestamp=at_day(date(2026, 2, 25)), properties={"path": "/"}
    )

    answer = client.post(BATCH, json={"events": [late]}, headers=key_headers).json()
    assert answer["stored"] == 1, answer["results"]
    process_pending_events()
    metrics_recompute_dirty()

    assert _metric("monthly_active_users", "month", date(2026, 2, 1)) == 2
    assert _dau(date(2026, 2, 25)) == 1


def test_ingestion_refuses_events_before_the_horizon_with_a_clear_422(
    client: TestClient, key_headers: dict[str, str], settings: Any, frozen_now: datetime
) -> None:
    settings.ANALYTICS_RETENTION_DAYS = 120
    horizon = events_horizon()
    too_old = event(timestamp=(horizon - timedelta(seconds=1)).isoformat())
    kept = event(timestamp=horizon.isoformat())

    refused = client.post(TRACK, json=too_old, headers=key_headers)
    stored = client.post(TRACK, json=kept, headers=key_headers)

    assert refused.status_code == 422, refused.text[:300]
    assert "older_than_retention" in refused.text and "120 days" in refused.text
    assert stored.status_code == 200, stored.text[:300]
    assert list(UserEvent.objects.values_list("timestamp", flat=True)) == [horizon]


class _Stopwatch:
    """`time` for the purge: the budget runs out after `batches` batch checks."""

    def __init__(self, batches: int) -> None:
        self.calls = 0
        self.batches = batches

    def monotonic(self) -> float:
        self.calls += 1  # the first call sets the deadline; each later one is a batch's check
        return 0.0 if self.calls <= self.batches + 1 else 1e9


def test_a_run_stopped_half_way_keeps_its_batches_and_the_next_resumes(
    platform: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches: a stopped run rolling back what it purged, or a resumed run that redoes or skips rows."""
    clock.freeze(PURGED_AT)
    monkeypatch.setattr(retention, "BATCH_SIZE", 1)
    monkeypatch.setattr(retention, "time", _Stopwatch(batches=3))
    stopped = retention_purge(budget_seconds=60.0)
    assert (stopped.complete, stopped.removed) == (False, {"analytics_user_event": 3})
    assert UserEvent.objects.count() == 5  # three old events went, one batch each, committed
    assert frozen_before() == date(2026, 2, 24)  # frozen already: nothing recomputes the days meanwhile
    monkeypatch.setattr(retention, "time", _Stopwatch(batches=1_000))
    resumed = retention_purge(budget_seconds=60.0)
    assert resumed.complete is True and resumed.removed["analytics_user_event"] == 1
    assert UserEvent.objects.count() == 4
    assert [run.complete for run in RetentionPurge.objects.order_by("id")] == [False, True]


def test_each_kind_ages_out_by_its_own_setting_and_nothing_owed_to_posthog_goes(platform: None, settings: Any) -> None:
    """Catches: a setting ignored, an unprocessed event or one still waiting for PostHog deleted by age, or a
    parked outbox row kept for ever."""
    now = PURGED_AT
    settings.POSTHOG_API_KEY = "phc_forwarding_is_on"  # nothing is sent here: the purge only reads the setting
    settings.ANALYTICS_SESSION_RETENTION_DAYS = 30
    settings.ANALYTICS_FAILED_EVENT_RETENTION_DAYS = 7
    settings.ANALYTICS_AUDIT_RETENTION_DAYS = 60
    settings.ANALYTICS_PARKED_OUTBOX_RETENTION_DAYS = 7
    old_events = list(UserEvent.objects.filter(timestamp__lt=at_day(NEW_DAY, 0)).order_by("id"))
    waiting, parked, unprocessed = old_events[0], old_events[1], old_events[2]
    ForwardingOutbox.objects.create(destination="posthog", event=waiting, created_at=now, next_attempt_at=now)
    ForwardingOutbox.objects.create(
        destination="posthog", event=parked, created_at=now, next_attempt_at=now, parked_at=now - timedelta(days=8)
    )
    UserEvent.objects.filter(pk=unprocessed.pk).update(processed_at=None)
    for age in (6, 8):
        FailedEvent.objects.create(
            received_at=now - timedelta(days=age), source="api", reason="invalid", error_message="x", payload={}
        )
    for age in (59, 61):
        AuditLog.objects.create(occurred_at=now - timedelta(days=age), actor="test", action="test.action")
    sessions_before = Session.objects.count()
    clock.freeze(now)

    report = retention_purge()

    assert set(UserEvent.objects.filter(timestamp__lt=events_horizon()).values_list("pk", flat=True)) == {
        waiting.pk,
        unprocessed.pk,
    }
    assert not ForwardingOutbox.objects.filter(parked_at__isnull=False).exists()  # parked 8 days ago: gone
    assert ForwardingOutbox.objects.filter(event=waiting).exists()
    assert FailedEvent.objects.count() == 1 and AuditLog.objects.filter(actor="test").count() == 1
    assert report.removed["analytics_session"] == sessions_before - Session.objects.count() > 0
    assert not Session.objects.filter(started_at__lt=now - timedelta(days=30)).exists()


def test_the_task_is_scheduled_daily() -> None:
    entry = beat_schedule()["cleanup-old-analytics-data"]
    assert entry["task"] == cleanup_old_analytics_data.name == "analytics.tasks.privacy.cleanup_old_analytics_data"
    assert entry["schedule"] == 24 * 3600.0


def test_without_posthog_an_event_with_a_waiting_outbox_row_is_purged(platform: None, settings: Any) -> None:
    """Catches: rows no one will ever send (forwarding switched off) keeping their events for ever."""
    settings.POSTHOG_API_KEY = ""
    waiting = UserEvent.objects.filter(timestamp__lt=at_day(NEW_DAY, 0)).order_by("id").first()
    assert waiting is not None
    ForwardingOutbox.objects.create(
        destination="posthog", event=waiting, created_at=PURGED_AT, next_attempt_at=PURGED_AT
    )
    clock.freeze(PURGED_AT)
    report = retention_purge()
    assert report.removed["analytics_user_event"] == 4 and report.removed["analytics_forwarding_outbox"] == 1
    assert not UserEvent.objects.filter(pk=waiting.pk).exists()


def test_earlier_segmentation_runs_go_with_the_events_they_came_from(platform: None) -> None:
    old = datetime.fromisoformat("2026-02-01T12:00:00+00:00")
    for run_id, current in (("old", False), ("now", True)):
        UserPersona.objects.create(
            run_id=run_id, name="p", description="d", size=40, confidence=0.8, model_version="m",
            created_at=old, is_current=current,
        )  # fmt: skip
    clock.freeze(PURGED_AT)
    assert retention_purge().removed["analytics_user_persona"] == 1
    assert list(UserPersona.objects.values_list("run_id", flat=True)) == ["now"]  # the current one stays


def test_sessions_go_by_whole_business_days_like_the_events(platform: None, settings: Any) -> None:
    """Catches: sessions purged by the instant (now − N days), which takes the first kept day's early
    sessions while that day's metrics still count them."""
    settings.ANALYTICS_SESSION_RETENTION_DAYS = 30
    first_kept = day_start(business_day(PURGED_AT) - timedelta(days=30))
    for session_id, started in (
        ("early-on-the-first-kept-day", first_kept + timedelta(hours=1)),
        ("the-day-before", first_kept - timedelta(hours=1)),
    ):
        Session.objects.create(session_id=session_id, user_id="user-1", started_at=started, ended_at=started)
    clock.freeze(PURGED_AT)
    retention_purge()
    assert set(Session.objects.filter(session_id__contains="day").values_list("session_id", flat=True)) == {
        "early-on-the-first-kept-day"
    }
