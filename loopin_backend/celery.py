"""The Celery application `loopin_backend`.

`celery -A loopin_backend worker --loglevel=info` consumes every queue declared here; named queues
exist so operators can split work (`-Q ingest`). Without CELERY_BROKER_URL tasks run in-process.
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from typing import Any

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopin_backend.settings")

QUEUES = ("default", "ingest", "metrics", "intelligence", "maintenance")
ROUTES = {
    "analytics.tasks.processing.*": "ingest",
    "analytics.tasks.maintenance.*": "maintenance",
    "analytics.tasks.behaviour.*": "intelligence",
    "analytics.tasks.predictions.*": "intelligence",
    "analytics.tasks.anomalies.*": "intelligence",
    "analytics.tasks.insights.*": "intelligence",
}


def task_route(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> dict[str, str] | None:
    """The queue of a task, by its own (module) name — also when it is sent under its flat name
    (`analytics.tasks.<name>`, analytics/tasks/policy.py)."""
    from analytics.tasks.policy import FLAT_NAMES

    own = FLAT_NAMES.get(name, name)
    for pattern, queue in ROUTES.items():
        if fnmatchcase(own, pattern):
            return {"queue": queue}
    return None  # the default queue


app = Celery("loopin_backend")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue="default",
    task_routes=(task_route,),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_acks_on_failure_or_timeout=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_ignore_result=True,
    task_time_limit=600,
    task_soft_time_limit=540,
    timezone="UTC",
    enable_utc=True,
    # Publishing must fail fast when the broker is down: rows are already committed and the
    # sweeper picks them up, so a request never waits on an unreachable broker.
    broker_connection_timeout=2,
    broker_connection_retry_on_startup=True,
    task_publish_retry=False,
    # broker_transport_options (connect/socket timeouts, the Redis visibility timeout): settings.py.
    redis_socket_connect_timeout=2,
    worker_hijack_root_logger=False,
    # Tasks are late-acked and idempotent: a task running when the broker connection drops is
    # cancelled and redelivered rather than finished unacknowledged.
    worker_cancel_long_running_tasks_on_connection_loss=True,
)
app.autodiscover_tasks(["analytics"])
