"""Documented task names: every task also answers to `analytics.tasks.<name>` (and event processing to
`analytics.tasks.process_user_events_batch`), with the same policy and the same queue as its own name."""

from __future__ import annotations

import pytest

import analytics.tasks
from loopin_backend.celery import app

TASKS = sorted(analytics.tasks.__all__)


def _queue(name: str) -> str:
    return app.amqp.router.route({}, name, (), {})["queue"].name


@pytest.mark.parametrize("name", TASKS)
def test_each_task_answers_to_its_flat_name_with_its_own_policy_and_queue(name: str) -> None:
    own = getattr(analytics.tasks, name)
    flat = app.tasks[f"analytics.tasks.{name}"]
    assert own.name != flat.name  # registered twice: the module name stays for the schedule and old messages
    assert flat.__wrapped__ is own.__wrapped__  # one function, two names
    for option in ("acks_late", "max_retries", "soft_time_limit", "time_limit", "autoretry_for", "retry_backoff"):
        assert getattr(flat, option) == getattr(own, option), option
    assert _queue(flat.name) == _queue(own.name)


def test_event_processing_answers_to_its_documented_name_on_the_ingest_queue() -> None:
    documented = app.tasks["analytics.tasks.process_user_events_batch"]
    assert documented.__wrapped__ is app.tasks["analytics.tasks.processing.process_new_events"].__wrapped__
    assert _queue("analytics.tasks.process_user_events_batch") == "ingest"
    assert _queue("analytics.tasks.process_new_events") == "ingest"
    assert _queue("analytics.tasks.train_prediction_models") == "intelligence"
    assert _queue("analytics.tasks.process_daily_metrics_calculation") == "default"


def test_a_documented_name_runs_the_task(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run by name (in-process here: no broker), the flat name runs the real task."""
    import time

    from analytics.collection.pipeline import event_ingest
    from analytics.models import UserEvent
    from analytics.models.events import EventSource
    from analytics.tasks import dispatch
    from tests.factories import event

    monkeypatch.setattr(dispatch, "_skip_until", time.monotonic() + 600)  # ingestion runs no processing

    event_ingest(batch=[event()], source=EventSource.HTTP)
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 1
    assert app.tasks["analytics.tasks.process_user_events_batch"].apply().get() == 1
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 0
