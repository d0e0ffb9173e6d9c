"""When recorded jobs last ran: `with task_run("metrics"): …` stamps the start, then the finish and its
outcome, each in its own short transaction (the job's own writes are not held up by it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db.models import F

from analytics import clock
from analytics.models import TaskRun

METRICS_RUN = "metrics"


def task_run_started(name: str) -> None:
    TaskRun.objects.update_or_create(name=name, defaults={"started_at": clock.now()})


def task_run_finished(name: str, *, error: str = "") -> None:
    TaskRun.objects.filter(name=name).update(
        finished_at=clock.now(),
        succeeded=not error,
        error=error[:300],
        finished_runs=F("finished_runs") + 1,
        failed_runs=F("failed_runs") + (1 if error else 0),
    )


def task_run_retried(name: str) -> None:
    TaskRun.objects.filter(name=name).update(retries=F("retries") + 1)


def task_runs() -> list[dict[str, object]]:
    """Every recorded job's last run, by name."""
    fields = ("name", "started_at", "finished_at", "succeeded", "error", "finished_runs", "failed_runs", "retries")
    return [dict(row) for row in TaskRun.objects.order_by("name").values(*fields)]


@contextmanager
def task_run(name: str) -> Iterator[None]:
    task_run_started(name)
    try:
        yield
    except BaseException as exc:
        task_run_finished(name, error=f"{type(exc).__name__}: {exc}")
        raise
    task_run_finished(name)


def generation(name: str) -> int:
    """How many runs of `name` have finished: changes exactly when one finishes (0 before the first)."""
    return TaskRun.objects.filter(name=name).values_list("finished_runs", flat=True).first() or 0


def last_finished(name: str) -> datetime | None:
    """When the last run of `name` finished (successfully or not); None before the first."""
    return TaskRun.objects.filter(name=name).values_list("finished_at", flat=True).first()
