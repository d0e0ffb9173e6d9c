"""Beat for the embedded mode: the same schedule, run by a thread of the server process.

In production `celery -A loopin_backend beat` sends the schedule to the workers. Without a broker
(`make run`) there is no beat process, so this thread walks the same `beat_schedule()` and runs
each due task in-process (`Task.apply`, the same code path as eager tasks). It is started by the
ASGI application's lifespan only in embedded mode and when ANALYTICS_EMBEDDED_SCHEDULER is on.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from celery.schedules import schedule as interval
from django.db import close_old_connections

from analytics import clock
from analytics.tasks.schedule import beat_schedule

logger = logging.getLogger(__name__)

_MAX_SLEEP_SECONDS = 30.0


class EmbeddedScheduler:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_run: dict[str, datetime] = {}

    def _entries(self) -> dict[str, tuple[str, Any]]:
        entries = {}
        for name, entry in beat_schedule().items():
            every = entry["schedule"]
            entries[name] = (entry["task"], every if hasattr(every, "is_due") else interval(run_every=every))
        return entries

    def run_due(self) -> float:
        """Run every due entry once (each is due at start); returns seconds until the next is due."""
        from loopin_backend.celery import app

        wait = _MAX_SLEEP_SECONDS
        for name, (task_name, when) in self._entries().items():
            last = self._last_run.get(name)
            due, next_in = (True, 0.0) if last is None else when.is_due(last)
            if due:
                self._last_run[name] = clock.now()
                try:
                    app.tasks[task_name].apply()
                except Exception:  # a failing task must not stop the schedule
                    logger.exception("embedded_beat.task_failed task=%s", task_name)
                finally:
                    close_old_connections()
                next_in = when.is_due(self._last_run[name])[1]
            wait = min(wait, max(0.5, float(next_in)))
        return wait

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.run_due())

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="loopin-embedded-beat", daemon=True)
            self._thread.start()
            logger.info("embedded_beat.started entries=%d", len(self._entries()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
