"""Worker lifecycle: each worker writes a heartbeat that /health reads; every scheduled task's last run is
recorded (`TaskRun`, listed by GET /health/detailed) — on a worker and in the embedded scheduler alike."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_postrun, task_prerun, task_retry, worker_ready, worker_shutdown
from django.db import DatabaseError

from analytics.operations.heartbeat import start_heartbeat, stop_heartbeat
from analytics.operations.schedule_slots import HEADER, BeatStamp, claim_slot
from analytics.operations.task_runs import task_run_finished, task_run_retried, task_run_started
from analytics.tasks.policy import FLAT_NAMES, SLOT_TAKEN
from analytics.tasks.schedule import beat_schedule

logger = logging.getLogger(__name__)


# Processing also runs after every ingestion, on the hot path: recording each run would put two writes on
# one contended row per batch. Its health is the backlog (GET /health, /metrics), not its last run.
UNRECORDED = frozenset({"analytics.tasks.processing.process_new_events"})


def _scheduled(task: Any) -> str | None:
    """The task's own name when it is a scheduled one (also when it ran under its flat name)."""
    name = getattr(task, "name", None)
    name = FLAT_NAMES.get(name, name) if name else None
    if name in UNRECORDED:
        return None
    return name if name in {entry["task"] for entry in beat_schedule().values()} else None


def _slot_free(task: Any) -> bool:
    """Whether this run may go on: a message beat sent runs only if it claims its entry's slot
    (analytics/operations/schedule_slots.py); any other message always runs."""
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}
    stamp = BeatStamp.from_header(getattr(request, HEADER, None) or headers.get(HEADER))
    if stamp is None:
        return True
    try:
        retry = bool(getattr(request, "retries", 0))
        return claim_slot(stamp, message_id=str(getattr(request, "id", "") or ""), retry=retry)
    except DatabaseError as exc:  # run it: the task meets the outage and retries; a double run is idempotent
        logger.warning("beat.slot_claim_failed entry=%s error=%s", stamp.entry, type(exc).__name__)
        return True


def _slot_was_taken(task: Any) -> bool:
    return bool(getattr(getattr(task, "request", None), SLOT_TAKEN, False))


@task_prerun.connect(dispatch_uid="analytics.task_run_started")
def _on_task_prerun(sender: Any = None, **kwargs: Any) -> None:
    if not _slot_free(sender):
        setattr(sender.request, SLOT_TAKEN, True)  # the task's body returns at once (analytics/tasks/policy.py)
        return
    name = _scheduled(sender)
    if name:
        try:
            task_run_started(name)
        except DatabaseError as exc:  # the record must never fail the task; the task will meet the outage
            logger.warning("task_run.record_failed task=%s error=%s", name, type(exc).__name__)


@task_postrun.connect(dispatch_uid="analytics.task_run_finished")
def _on_task_postrun(sender: Any = None, state: str | None = None, retval: Any = None, **kwargs: Any) -> None:
    name = None if _slot_was_taken(sender) else _scheduled(sender)
    if name:
        failure = f"{type(retval).__name__}: {retval}" if isinstance(retval, BaseException) else str(retval)
        error = "" if state == "SUCCESS" else f"{state}: {failure}"
        try:
            task_run_finished(name, error=error)
        except DatabaseError as exc:
            logger.warning("task_run.record_failed task=%s error=%s", name, type(exc).__name__)


@task_retry.connect(dispatch_uid="analytics.task_run_retried")
def _on_task_retry(sender: Any = None, **kwargs: Any) -> None:
    name = _scheduled(sender)
    if name:
        try:
            task_run_retried(name)
        except DatabaseError as exc:
            logger.warning("task_run.record_failed task=%s error=%s", name, type(exc).__name__)


@worker_ready.connect(dispatch_uid="analytics.worker_ready")
def _on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None) or "worker"
    start_heartbeat(hostname)


@worker_shutdown.connect(dispatch_uid="analytics.worker_shutdown")
def _on_worker_shutdown(sender: Any = None, **kwargs: Any) -> None:
    stop_heartbeat()
