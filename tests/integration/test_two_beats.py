"""FAULT: two beat processes started by mistake. Both send every entry on their own clock; the workers run
one message per slot and skip the other (analytics/operations/schedule_slots.py): the sweeper, every 2 s
here, runs about once per 2 s instead of twice, and every message either ran or was skipped — none lost."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from analytics.models import ScheduleSlot
from tests.integration.support import ServiceProcess, wait_until

ENTRY = "sweep-unprocessed-events"
SENT = f"Sending due task {ENTRY}"


def test_two_beats_run_each_slot_once_and_every_message_is_accounted_for(
    celery_worker: ServiceProcess, celery_beat_named: Callable[[str], ServiceProcess]
) -> None:
    first = celery_beat_named("beat-a")
    time.sleep(0.9)  # out of phase: without the claim, the two beats' messages would all run
    second = celery_beat_named("beat-b")
    beats = [first, second]
    wait_until(
        lambda: min(beat.log_text().count(SENT) for beat in beats) >= 6,
        timeout=60,
        what="each beat to send the sweeper six times",
        alive=[*beats, celery_worker],
    )
    for beat in beats:
        beat.stop()
    sent = [beat.log_text().count(SENT) for beat in beats]

    def handled() -> ScheduleSlot | None:
        slot = ScheduleSlot.objects.filter(entry=ENTRY).first()
        return slot if slot and slot.runs + slot.skipped >= sum(sent) else None

    slot = wait_until(handled, timeout=60, what="the worker to take every message", alive=[celery_worker])
    assert slot.runs + slot.skipped == sum(sent), (slot.runs, slot.skipped, sent)  # each ran or was skipped
    assert slot.runs <= max(sent) + 1, (slot.runs, sent)  # about one beat's worth of runs, not two
    assert slot.skipped >= min(sent) - 1, (slot.skipped, sent)
    assert "beat.slot_taken entry=sweep-unprocessed-events" in celery_worker.log_text()
    # the skipped messages returned at once (None); the others ran the sweeper, which returns how many events it
    # processed (processing messages that earlier tests left on the broker run here too, never returning None)
    results = re.findall(r"process_new_events\[[^\]]+\] succeeded in [0-9.]+s: (\S+)", celery_worker.log_text())
    assert results.count("None") == slot.skipped, results
    assert len(results) - results.count("None") >= slot.runs, results
