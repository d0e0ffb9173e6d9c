"""The one policy every database task of the service follows (Celery docs, "tasks" and "routing"):
acknowledged after it ran (`acks_late`: each task is idempotent), retried only on transient database
errors, with exponential backoff, jitter and a finite limit, and bounded in time; and each run starts and
ends with fresh database connections (a restarted database never leaves a stale one behind)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import current_task, shared_task
from django.db import InterfaceError, OperationalError, close_old_connections

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


# Every task is also registered under a flat name, `analytics.tasks.<function name>` (and under the names
# the documentation gives it, `aliases`), so that `send_task("analytics.tasks.process_daily_metrics_calculation")`
# works as documented. flat name → the task's own (module) name, which routing and the schedule use.
FLAT_NAMES: dict[str, str] = {}

# Set on a run's request by the worker (analytics/tasks/worker.py) when the message came from beat for a
# slot another message already ran (a second beat process): the run returns at once.
SLOT_TAKEN = "loopin_slot_taken"


def _slot_taken() -> bool:
    # `current_task` is a proxy: false outside a task (a direct `.run()` call), else the running task
    return bool(current_task) and bool(getattr(current_task.request, SLOT_TAKEN, False))


def database_task(
    *, name: str, soft_time_limit: int, time_limit: int, max_retries: int = 5, aliases: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Any]:
    """`@database_task(name=…, soft_time_limit=…, time_limit=…)`: a shared task under the policy above,
    registered under `name`, its flat name and `analytics.tasks.<alias>` for each alias."""
    options: dict[str, Any] = {
        "acks_late": True,
        "autoretry_for": TRANSIENT_ERRORS,
        "retry_backoff": 2,
        "retry_backoff_max": 300,
        "retry_jitter": True,
        "max_retries": max_retries,
        "soft_time_limit": soft_time_limit,
        "time_limit": time_limit,
    }

    def register(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            if _slot_taken():
                return None
            return fn(*args, **kwargs)

        task = shared_task(name=name, **options)(run)
        for short in (fn.__name__, *aliases):
            flat = f"analytics.tasks.{short}"
            if flat != name:
                FLAT_NAMES[flat] = name
                shared_task(name=flat, **options)(run)
        return task

    return register


@contextmanager
def fresh_connections() -> Iterator[None]:
    close_old_connections()
    try:
        yield
    finally:
        close_old_connections()
