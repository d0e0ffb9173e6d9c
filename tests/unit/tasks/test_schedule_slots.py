"""One run per beat slot (analytics/operations/schedule_slots.py): the claim rule, the worker's skip of a
message whose slot is taken, and the scheduler's stamp. Two real beat processes: tests/integration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics.models import ScheduleSlot, TaskRun
from analytics.operations.schedule_slots import HEADER, BeatStamp, claim_slot

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EVERY = 60.0
DELIVERY = "analytics.tasks.alerts.deliver_alert_notifications"


def stamp(seconds: float, entry: str = "deliver-alert-notifications") -> BeatStamp:
    return BeatStamp(entry=entry, sent_at=T0 + timedelta(seconds=seconds), every_seconds=EVERY)


def test_one_message_per_slot_redeliveries_run_again_and_an_older_message_never_runs_after_a_newer(
    db: None,
) -> None:
    assert claim_slot(stamp(0), message_id="a1") is True
    assert claim_slot(stamp(20), message_id="b1") is False  # the second beat, a third of an interval later
    assert claim_slot(stamp(0), message_id="a1") is True  # a1 redelivered after its worker died
    assert claim_slot(stamp(53), message_id="b2") is False  # under 90% of an interval after a1
    assert claim_slot(stamp(54), message_id="a2") is True  # 90%: the next slot
    assert claim_slot(stamp(40), message_id="late") is False  # sent before a2, delivered after it
    assert claim_slot(stamp(5, entry="forward-to-posthog"), message_id="c1") is True  # entries are independent
    slot = ScheduleSlot.objects.get(entry="deliver-alert-notifications")
    assert (slot.runs, slot.skipped, slot.message_id, slot.claimed_at) == (3, 3, "a2", T0 + timedelta(seconds=54))


def test_a_retry_overtaken_by_a_newer_slot_is_superseded_not_counted_and_a_stamp_from_the_future_is_now(
    db: None,
) -> None:
    assert claim_slot(stamp(0), message_id="a1") is True
    assert claim_slot(stamp(0), message_id="a1", retry=True) is True  # its own retry, nothing newer ran
    assert claim_slot(stamp(60), message_id="a2") is True
    assert claim_slot(stamp(0), message_id="a1", retry=True) is False  # a later retry of a1: a2 ran since
    assert ScheduleSlot.objects.get(entry="deliver-alert-notifications").skipped == 0
    # a stray beat whose clock runs a day ahead claims "now", not tomorrow: the right beat is not starved
    ahead = BeatStamp(entry="e", sent_at=datetime.now(tz=UTC) + timedelta(days=1), every_seconds=EVERY)
    assert claim_slot(ahead, message_id="stray") is True
    claimed_at = ScheduleSlot.objects.get(entry="e").claimed_at
    assert claimed_at is not None and claimed_at <= datetime.now(tz=UTC)  # one interval on, the slot is free


def test_the_stamp_survives_its_header_and_a_malformed_one_is_no_stamp() -> None:
    original = stamp(12.5)
    assert BeatStamp.from_header(original.header()) == original
    for bad in (None, "x", {}, {"entry": "", "sent_at": 1, "every": 60}, {"entry": "e", "sent_at": "x", "every": 1}):
        assert BeatStamp.from_header(bad) is None
    assert BeatStamp.from_header({"entry": "e", "sent_at": 1.0, "every": 0}) is None


def test_a_message_whose_slot_is_taken_is_skipped_without_running_or_being_recorded(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process (no broker) the worker's signals run the same way: the second beat's message for the slot
    returns without calling the delivery and leaves the task's recorded runs alone."""
    import analytics.tasks.alerts as alerts_tasks
    from loopin_backend.celery import app

    calls: list[int] = []

    monkeypatch.setattr(alerts_tasks, "alert_notifications_deliver", lambda: calls.append(1) or _Result())
    task = app.tasks[DELIVERY]
    task.apply(headers={HEADER: stamp(0).header()}, task_id="beat-a")
    task.apply(headers={HEADER: stamp(30).header()}, task_id="beat-b")  # the second beat
    task.apply(task_id="by-hand")  # no stamp: sent by hand or by another task, always runs
    task.run()  # called directly, outside any task
    assert len(calls) == 3
    assert TaskRun.objects.get(name=DELIVERY).finished_runs == 2
    assert ScheduleSlot.objects.get(entry="deliver-alert-notifications").skipped == 1


class _Result:
    def __init__(self) -> None:
        self.__dict__ = {"sent": 0}


def test_the_scheduler_stamps_each_message_with_its_entry_instant_and_interval(tmp_path: Any) -> None:
    from celery.beat import ScheduleEntry
    from celery.schedules import schedule

    from analytics.tasks.beat import SlotScheduler
    from loopin_backend.celery import app

    sent: list[dict[str, Any]] = []

    class Recording(SlotScheduler):
        def send_task(self, name: str, args: Any, kwargs: Any, producer: Any = None, **options: Any) -> None:
            sent.append({"name": name, **options})

    scheduler = Recording(app=app, schedule_filename=str(tmp_path / "schedule"), lazy=True)
    entry = ScheduleEntry(
        name="an-entry", task="no.such.task", schedule=schedule(15.0), options={"queue": "default"}, app=app
    )
    before = datetime.now(tz=UTC)
    scheduler.apply_async(entry, advance=False)
    header = BeatStamp.from_header(sent[0]["headers"][HEADER])
    assert header is not None and header.entry == "an-entry" and header.every_seconds == 15.0
    assert before <= header.sent_at <= datetime.now(tz=UTC)
    assert sent[0]["queue"] == "default" and entry.options == {"queue": "default"}  # the entry is left as it was
