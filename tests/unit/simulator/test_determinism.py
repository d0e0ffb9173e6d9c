"""Same seed and end date ⇒ the same data, uuids included; a second run stores nothing new."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from analytics.models import UserEvent
from analytics.simulator import config_build
from analytics.simulator.behaviour.engine import Simulation
from tests.unit.simulator.conftest import END_DATE, TODAY, Run, stored_rows, wipe_analytics_tables

pytestmark = pytest.mark.django_db


def _generated(seed: int) -> list[dict[str, object]]:
    config = config_build(users=40, days=10, seed=seed, end_date=END_DATE, time_zone="Asia/Kolkata", today=TODAY)
    return [event for events, _ in Simulation(config).days() for event in events]


def test_two_runs_in_fresh_databases_store_identical_rows_and_truth(run: Run, tmp_path: Path) -> None:
    first = run(data_dir=tmp_path / "a")
    rows = stored_rows()
    assert len(rows) == first.events > 500
    wipe_analytics_tables()
    second = run(data_dir=tmp_path / "b")
    assert stored_rows() == rows
    assert second.delivery.stored == first.delivery.stored
    assert first.truth_path.read_bytes() == second.truth_path.read_bytes()


def test_running_again_with_the_same_arguments_stores_nothing_new(run: Run) -> None:
    first = run()
    again = run()
    assert first.delivery.stored == first.events
    assert again.delivery.stored == 0
    assert again.delivery.duplicates == again.events == first.events
    assert UserEvent.objects.count() == first.events


def test_every_uuid_comes_from_the_seed() -> None:
    one, same, other = _generated(5), _generated(5), _generated(6)
    assert [e["uuid"] for e in one] == [e["uuid"] for e in same]
    assert one == same
    assert not {e["uuid"] for e in one} & {e["uuid"] for e in other}
    assert len({e["uuid"] for e in one}) == len(one)


def test_the_command_twice_answers_duplicate_for_every_event(settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    arguments = {"users": 30, "days": 7, "seed": 3, "end_date": END_DATE, "no_progress": True}
    call_command("simulate", **arguments)
    stored = UserEvent.objects.count()
    from io import StringIO

    output = StringIO()
    call_command("simulate", stdout=output, **arguments)
    assert UserEvent.objects.count() == stored > 0
    assert f"stored 0, duplicates {stored:,}, rejected 0" in output.getvalue()
    assert (tmp_path / "ground_truth.json").exists()
