"""Beat's scheduler: Celery's own (`PersistentScheduler`, the schedule file) stamping each message it sends
with its entry, the instant and the entry's interval, so that workers run one message per slot even when
two beat processes run (analytics/operations/schedule_slots.py). `CELERY_BEAT_SCHEDULER` names it, so
`celery -A loopin_backend beat` uses it without options."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry
from celery.schedules import schedule

from analytics.operations.schedule_slots import HEADER, BeatStamp


class SlotScheduler(PersistentScheduler):
    def apply_async(self, entry: ScheduleEntry, producer: Any = None, advance: bool = True, **kwargs: Any) -> Any:
        entry = self.reserve(entry) if advance else entry
        if isinstance(entry.schedule, schedule):  # every entry of beat_schedule() is an interval
            stamp = BeatStamp(
                entry=entry.name,
                sent_at=datetime.now(tz=UTC),
                every_seconds=entry.schedule.run_every.total_seconds(),
            )
            entry = copy.copy(entry)  # the schedule keeps its own entry; only this message is stamped
            entry.options = {**entry.options, "headers": {**entry.options.get("headers", {}), HEADER: stamp.header()}}
        return super().apply_async(entry, producer, advance=False, **kwargs)
