"""FAULT: the Redis broker restarts (killed, not shut down cleanly) with tasks queued and no worker up. With
append-only persistence fsynced on every write (`appendonly yes`, `appendfsync always` — the production
setting docs/reliability.md gives), every queued message is there after the restart and the worker runs it."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from analytics.models import UserEvent
from tests.integration.conftest import _redis_answers
from tests.integration.events import page_view
from tests.integration.proxy import free_port
from tests.integration.support import ServiceProcess, wait_until

BATCH = "/api/analytics/events/batch"
QUEUED = 3


class PersistentRedis:
    """A private redis-server with an append-only file fsynced on every write, restartable on its port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.server: ServiceProcess | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.server = ServiceProcess(
            "redis-server (persistent)",
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            env=dict(os.environ),
            log_path=self.directory / "redis.log",
        )
        wait_until(lambda: _redis_answers(self.port), timeout=15, what="the redis-server", alive=[self.server])

    def kill(self) -> None:
        assert self.server is not None
        os.kill(self.server.pid, signal.SIGKILL)  # no shutdown save: only what is already on disk survives
        self.server.process.wait(timeout=10)
        self.server.stop()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[PersistentRedis]:
    server = PersistentRedis(tmp_path)
    server.start()
    yield server
    if server.server is not None:
        server.server.stop()


def test_tasks_queued_before_a_broker_crash_all_run_after_its_restart(
    client: TestClient,
    key_headers: dict[str, str],
    persistent_redis: PersistentRedis,
    celery_worker_with: Callable[..., ServiceProcess],
    monkeypatch: Any,
) -> None:
    from analytics.tasks import dispatch
    from loopin_backend.celery import app

    monkeypatch.setattr(dispatch, "_skip_until", time.monotonic() + 3600)  # ingestion publishes nothing itself
    response = client.post(BATCH, json={"events": [page_view() for _ in range(50)]}, headers=key_headers)
    assert response.json()["stored"] == 50

    with app.connection_for_write(persistent_redis.url) as connection:
        for _ in range(QUEUED):
            app.send_task("analytics.tasks.process_user_events_batch", connection=connection)
    queue = redis.Redis(port=persistent_redis.port)
    assert queue.llen("ingest") == QUEUED
    queue.close()

    persistent_redis.kill()
    persistent_redis.start()
    queue = redis.Redis(port=persistent_redis.port)
    assert queue.llen("ingest") == QUEUED  # nothing queued was lost with the broker
    queue.close()

    worker = celery_worker_with(CELERY_BROKER_URL=persistent_redis.url)
    wait_until(
        lambda: not UserEvent.objects.filter(processed_at__isnull=True).exists(),
        timeout=60,
        what="the worker to run the tasks queued before the crash",
        alive=[worker],
    )
    queue = redis.Redis(port=persistent_redis.port)
    wait_until(lambda: queue.llen("ingest") == 0, timeout=30, what="the queue to drain", alive=[worker])
    queue.close()
    assert worker.log_text().count("process_user_events_batch") >= QUEUED
