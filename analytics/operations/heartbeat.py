"""Worker heartbeats, written from a thread of each Celery worker's main process."""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from analytics import clock
from analytics.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

_stop = threading.Event()
_thread: threading.Thread | None = None


def heartbeat_beat(hostname: str, started_at: object) -> None:
    """Record that `hostname` is alive now."""
    now = clock.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"pid": os.getpid(), "last_seen": now, "started_at": started_at}
    )


def _run(hostname: str) -> None:
    started_at = clock.now()
    while not _stop.is_set():
        try:
            heartbeat_beat(hostname, started_at)
        except DatabaseError as exc:
            logger.warning("worker.heartbeat_failed error=%s", type(exc).__name__)
        finally:
            close_old_connections()
            connection.close()
        _stop.wait(settings.ANALYTICS_WORKER_HEARTBEAT_SECONDS)


def start_heartbeat(hostname: str) -> None:
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    _stop.clear()
    _thread = threading.Thread(target=_run, args=(hostname,), name="loopin-heartbeat", daemon=True)
    _thread.start()


def stop_heartbeat() -> None:
    _stop.set()
