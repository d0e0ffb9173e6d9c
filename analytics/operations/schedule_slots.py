"""One run per beat slot, even with two beat processes (issue 16; docs/reliability.md).

Beat must run once, but a second one started by mistake (two deploys overlapping, a forgotten
`make beat`) sends every entry again on its own clock. Each message beat sends carries its entry,
the instant beat sent it and the entry's interval (`analytics/tasks/beat.py`); a worker runs it only
if it claims the entry's slot:

- the entry's last claim was sent at least `SLOT_SHARE` of an interval earlier (a single beat sends
  an entry at most once per interval; the 10% margin absorbs tick jitter and clocks a little apart), or
- the last claim was made by this very message: a message redelivered after its worker died runs again.

A send instant ahead of the worker's clock counts as the worker's now, so a stray beat whose clock runs
ahead cannot take slots from the future and starve the right one once it is gone.

The claim is one conditional UPDATE, so two workers racing for one slot cannot both win. A message
that loses is acknowledged and skipped, counted in `ScheduleSlot.skipped` and logged: the sign that a
second beat runs. A message sent before the last claimed one never runs after it. A retry of a message
(same id, Celery's backoff) that a newer slot overtook meanwhile is skipped too, but as superseded: it is
no sign of a second beat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import F, Q

from analytics.models import ScheduleSlot

logger = logging.getLogger(__name__)

SLOT_SHARE = 0.9
HEADER = "loopin_beat"  # the message header beat's scheduler adds


@dataclass(frozen=True)
class BeatStamp:
    """What beat's scheduler stamps on a message: which entry, when it was sent, its interval."""

    entry: str
    sent_at: datetime
    every_seconds: float

    def header(self) -> dict[str, Any]:
        return {"entry": self.entry, "sent_at": self.sent_at.timestamp(), "every": self.every_seconds}

    @classmethod
    def from_header(cls, value: Any) -> BeatStamp | None:
        """The stamp of a message's header, or None when the message carries none (sent by hand, by the
        embedded scheduler or by another task) or a malformed one."""
        if not isinstance(value, dict):
            return None
        try:
            entry, sent, every = str(value["entry"]), float(value["sent_at"]), float(value["every"])
        except (KeyError, TypeError, ValueError):
            return None
        if not entry or every <= 0:
            return None
        return cls(entry=entry, sent_at=datetime.fromtimestamp(sent, tz=UTC), every_seconds=every)


def claim_slot(stamp: BeatStamp, *, message_id: str, retry: bool = False) -> bool:
    """Whether the message `message_id` stamped `stamp` may run (and, if so, its slot is now taken);
    `retry`: this is a retry of that message (Celery's autoretry)."""
    message_id = message_id[:64]
    sent_at = min(stamp.sent_at, datetime.now(tz=UTC))
    ScheduleSlot.objects.bulk_create([ScheduleSlot(entry=stamp.entry)], ignore_conflicts=True)
    free_before = sent_at - timedelta(seconds=stamp.every_seconds * SLOT_SHARE)
    won = (
        ScheduleSlot.objects.filter(entry=stamp.entry)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=free_before) | Q(message_id=message_id))
        .update(claimed_at=sent_at, message_id=message_id, runs=F("runs") + 1)
    )
    if won:
        return True
    if retry:
        logger.info("beat.slot_superseded entry=%s message=%s: a newer slot ran meanwhile", stamp.entry, message_id)
        return False
    ScheduleSlot.objects.filter(entry=stamp.entry).update(skipped=F("skipped") + 1)
    logger.warning(
        "beat.slot_taken entry=%s sent_at=%s message=%s: skipped — is a second beat process running?",
        stamp.entry,
        stamp.sent_at.isoformat(),
        message_id,
    )
    return False
