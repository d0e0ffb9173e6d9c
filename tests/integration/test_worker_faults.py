"""FAULT: a worker killed (SIGKILL, every process of it) in the middle of processing, on each broker. The
message it had taken is not acknowledged (`acks_late`): Redis delivers it again once the visibility timeout
has passed (`ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS`, a few seconds here; docs/operations.md),
RabbitMQ as soon as the dead worker's connection closes. The next worker finishes the work, and every
event is processed exactly once. No sweeper runs in this test: only the redelivered message can finish it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Count
from fastapi.testclient import TestClient

from analytics.models import UserEvent
from tests.integration.events import page_view, platform_until_today
from tests.integration.support import ServiceProcess, wait_until

BATCH = "/api/analytics/events/batch"
BATCHES, PER_BATCH = 40, 1000


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The worker's broker settings: the tier's private Redis (a 5 s visibility timeout), or a private
    virtual host on the machine's RabbitMQ (created for the test, deleted after it)."""
    if request.param == "redis":
        yield {"CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS": "5"}
        return
    vhost = f"loopin-itest-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield {"CELERY_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}"}
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def test_a_worker_killed_mid_processing_loses_nothing_and_the_work_completes_exactly_once(
    client: TestClient,
    key_headers: dict[str, str],
    broker: dict[str, str],
    celery_worker_with: Callable[..., ServiceProcess],
    monkeypatch: Any,
) -> None:
    from analytics.tasks import dispatch
    from loopin_backend.celery import app

    # The events are stored with no processing message published (the publisher's own back-off after a
    # broker outage): the one message sent below is the only one.
    monkeypatch.setattr(dispatch, "_skip_until", time.monotonic() + 3600)
    for number in range(BATCHES):
        events = [page_view(user_id=f"u-{number}-{i % 50}", path=f"/kill/{number}/{i}") for i in range(PER_BATCH)]
        response = client.post(BATCH, json={"events": events}, headers=key_headers)
        assert response.json()["stored"] == PER_BATCH, response.text
    total = BATCHES * PER_BATCH

    def processed() -> int:
        return UserEvent.objects.filter(processed_at__isnull=False).count()

    first = celery_worker_with(**broker)
    with app.connection_for_write(broker["CELERY_BROKER_URL"]) as connection:
        app.send_task("analytics.tasks.process_user_events_batch", connection=connection)
    wait_until(lambda: processed() > 0, timeout=60, interval=0.05, what="processing to start", alive=[first])
    os.killpg(first.pid, signal.SIGKILL)  # the main process and its pool children, mid-task
    first.process.wait(timeout=10)
    at_kill = processed()
    assert 0 < at_kill < total, f"the kill came too late to test anything: {at_kill} of {total} processed"
    time.sleep(2)
    assert processed() == at_kill  # nothing runs while no worker is up

    second = celery_worker_with(**broker)
    wait_until(
        lambda: processed() == total,
        timeout=90,
        what="the redelivered message to finish processing",
        alive=[second],
    )
    assert "process_user_events_batch" in second.log_text()  # finished by the redelivered message
    stored = UserEvent.objects.aggregate(rows=Count("id"), uuids=Count("uuid", distinct=True))
    assert stored == {"rows": total, "uuids": total}


def test_a_poison_message_fails_visibly_once_and_never_blocks_the_queue(
    client: TestClient,
    key_headers: dict[str, str],
    admin_headers: dict[str, str],
    celery_worker: ServiceProcess,
    monkeypatch: Any,
) -> None:
    """A message that can never succeed (arguments no task accepts) fails at once — no retries: only
    transient database errors are retried — is acknowledged, and is recorded where an operator looks
    (GET /health/detailed's task runs, the worker's log); the messages behind it run."""
    from analytics.models import TaskRun
    from analytics.tasks import dispatch
    from loopin_backend.celery import app

    monkeypatch.setattr(dispatch, "_skip_until", time.monotonic() + 3600)
    response = client.post(BATCH, json={"events": [page_view() for _ in range(20)]}, headers=key_headers)
    assert response.json()["stored"] == 20

    for _ in range(3):  # poison, under the flat name and the module name
        app.send_task("analytics.tasks.process_daily_metrics_calculation", args=[{"poison": True}, "x", 3])
    app.send_task("analytics.tasks.metrics.process_daily_metrics_calculation", kwargs={"no_such_argument": 1})
    app.send_task("analytics.tasks.process_user_events_batch")  # a good message behind them

    wait_until(
        lambda: not UserEvent.objects.filter(processed_at__isnull=True).exists(),
        timeout=60,
        what="the good message behind the poison to run",
        alive=[celery_worker],
    )
    run = wait_until(
        lambda: TaskRun.objects.filter(
            name="analytics.tasks.metrics.process_daily_metrics_calculation", failed_runs=4
        ).first(),
        timeout=30,
        what="the four poison messages to be recorded as failed",
        alive=[celery_worker],
    )
    assert run.retries == 0 and run.succeeded is False and "TypeError" in run.error
    detailed = client.get("/api/analytics/health/detailed", headers=admin_headers).json()
    recorded = {r["name"]: r for r in detailed["task_runs"]}
    assert recorded["analytics.tasks.metrics.process_daily_metrics_calculation"]["failed_runs"] == 4
    assert celery_worker.log_text().count("TypeError") >= 4


def test_a_worker_killed_while_forwarding_to_posthog_loses_no_event_and_resends_only_the_batch_in_flight(
    client: TestClient,
    key_headers: dict[str, str],
    celery_worker_with: Callable[..., ServiceProcess],
    celery_beat: ServiceProcess,
    monkeypatch: Any,
) -> None:
    """The worker is killed while PostHog holds its first batch unanswered. PostHog then ingests that batch
    (its answer goes to a dead socket), the rows' lease runs out (5 s here) and beat's next forwarding run
    sends them again: every event arrives, only the batch in flight twice — with the same uuids, on which
    PostHog de-duplicates — and the outbox ends empty."""
    from analytics.collection.forwarding import BATCH_SIZE
    from analytics.models import ForwardingOutbox
    from analytics.tasks import dispatch
    from loopin_backend.celery import app
    from tests.support.posthog_server import PostHogCaptureServer

    monkeypatch.setattr(dispatch, "_skip_until", time.monotonic() + 3600)
    total = 4 * BATCH_SIZE
    events = [page_view(user_id=f"f-{i % 80}", path=f"/forward/{i}") for i in range(total)]
    response = client.post(BATCH, json={"events": events}, headers=key_headers)
    assert response.json()["stored"] == total, response.text

    with PostHogCaptureServer(api_key="phc_itest") as posthog:
        env = {
            "POSTHOG_API_KEY": "phc_itest",
            "POSTHOG_HOST": posthog.url,
            "ANALYTICS_DELIVERY_LEASE_SECONDS": "5",
            "ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS": "5",
        }
        posthog.pause()  # the first batch will be in flight, unanswered
        first = celery_worker_with(**env)
        app.send_task("analytics.tasks.process_user_events_batch")  # processing fills the outbox, then forwards
        assert posthog.wait_for_requests(1, timeout=60), first.tail()
        os.killpg(first.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        posthog.resume()  # PostHog ingests the held batch; nobody is left to delete its rows
        assert ForwardingOutbox.objects.count() == total  # nothing recorded as sent by the dead worker

        second = celery_worker_with(**env)
        wait_until(
            lambda: not ForwardingOutbox.objects.exists(),
            timeout=120,
            what="the next forwarding runs to send what the dead worker left",
            alive=[second, celery_beat],
        )
        received = [event["uuid"] for event in posthog.events()]
    stored = {str(u) for u in UserEvent.objects.values_list("uuid", flat=True)}
    assert set(received) == stored and len(stored) == total  # every event arrived
    assert total < len(received) <= total + BATCH_SIZE  # the batch in flight, and only it, sent twice


def test_a_worker_killed_mid_metrics_run_leaves_the_numbers_a_clean_run_gives(
    celery_worker_with: Callable[..., ServiceProcess], tmp_path: Any
) -> None:
    """The metrics run (every day of a simulated platform dirty) is killed while it runs; the redelivered
    message finishes it, and every metric equals what a clean rebuild of every day computes afterwards —
    no row missing, none twice, none left from the interrupted run."""
    from django.core.management import call_command

    from analytics.models import BusinessMetric, MetricDirtyDay, TaskRun
    from analytics.simulator import simulation_run
    from analytics.simulator.sinks import InProcessSink
    from loopin_backend.celery import app

    config = platform_until_today(users=400, days=45, seed=11)
    simulation_run(config=config, sink=InProcessSink(), data_dir=tmp_path, progress=False)
    assert not UserEvent.objects.filter(processed_at__isnull=True).exists()
    dirty = MetricDirtyDay.objects.count()
    assert dirty >= 45
    name = "analytics.tasks.metrics.process_daily_metrics_calculation"

    def running() -> bool:
        return TaskRun.objects.filter(name=name, finished_at__isnull=True).exists()

    first = celery_worker_with(ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS="5")
    app.send_task("analytics.tasks.process_daily_metrics_calculation")
    wait_until(running, timeout=60, interval=0.05, what="the metrics run to start", alive=[first])
    time.sleep(1.0)
    assert running(), "the metrics run ended before the kill: nothing would be tested"
    os.killpg(first.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    assert MetricDirtyDay.objects.exists()  # the interrupted run did not finish its days

    second = celery_worker_with(ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS="5")
    wait_until(
        lambda: (
            TaskRun.objects.filter(name=name, finished_runs__gte=1, succeeded=True).exists()
            and not MetricDirtyDay.objects.exists()
        ),
        timeout=180,
        what="the redelivered metrics run to finish",
        alive=[second],
    )
    second.stop()
    fields = ("metric_name", "period_type", "period_start", "breakdown_key", "value")
    after_kill = sorted(BusinessMetric.objects.values_list(*fields))
    assert len(after_kill) == len(set(after_kill)) and after_kill
    call_command("backfill_metrics", verbosity=0)  # every day rebuilt from the events, in this process
    assert sorted(BusinessMetric.objects.values_list(*fields)) == after_kill
