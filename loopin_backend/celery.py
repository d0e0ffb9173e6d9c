"""The Celery application `loopin_backend`.

`celery -A loopin_backend worker --loglevel=info` consumes every queue declared here; named queues
exist so operators can split work (`-Q ingest`). Without CELERY_BROKER_URL tasks run in-process.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopin_backend.settings")

QUEUES = ("default", "ingest", "metrics", "intelligence", "maintenance")

app = Celery("loopin_backend")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue="default",
    task_routes={
        "analytics.tasks.processing.*": {"queue": "ingest"},
        "analytics.tasks.maintenance.*": {"queue": "maintenance"},
        "analytics.tasks.behaviour.*": {"queue": "intelligence"},
        "analytics.tasks.predictions.*": {"queue": "intelligence"},
        "analytics.tasks.anomalies.*": {"queue": "intelligence"},
        "analytics.tasks.insights.*": {"queue": "intelligence"},
    },
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
    broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5, "visibility_timeout": 3600},
    redis_socket_connect_timeout=2,
    worker_hijack_root_logger=False,
    # Tasks are late-acked and idempotent: a task running when the broker connection drops is
    # cancelled and redelivered rather than finished unacknowledged.
    worker_cancel_long_running_tasks_on_connection_loss=True,
)
app.autodiscover_tasks(["analytics"])
