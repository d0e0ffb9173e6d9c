"""Worker lifecycle: each worker writes a heartbeat that /health reads."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready, worker_shutdown

from analytics.operations.heartbeat import start_heartbeat, stop_heartbeat


@worker_ready.connect(dispatch_uid="analytics.worker_ready")
def _on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None) or "worker"
    start_heartbeat(hostname)


@worker_shutdown.connect(dispatch_uid="analytics.worker_shutdown")
def _on_worker_shutdown(sender: Any = None, **kwargs: Any) -> None:
    stop_heartbeat()
