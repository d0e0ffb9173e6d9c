"""Embedded mode has no beat process: the server's scheduler thread runs the same schedule."""

from __future__ import annotations

import pytest

from analytics.collection.pipeline import event_ingest
from analytics.models import UserEvent
from analytics.tasks.embedded_scheduler import EmbeddedScheduler
from tests.factories import event

pytestmark = pytest.mark.django_db(transaction=True)


def test_embedded_scheduler_runs_the_sweeper_for_rows_a_lost_task_left_behind() -> None:
    assert event_ingest(batch=[event(), event()], source="http").stored == 2
    UserEvent.objects.update(processed_at=None)  # as if the processing message had been lost
    wait = EmbeddedScheduler().run_due()
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert 0 < wait <= 30


def test_embedded_scheduler_does_not_rerun_an_entry_before_it_is_due() -> None:
    scheduler = EmbeddedScheduler()
    scheduler.run_due()
    assert event_ingest(batch=[event()], source="http").stored == 1
    UserEvent.objects.update(processed_at=None)
    scheduler.run_due()  # the sweeper ran a moment ago: not due yet
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 1
