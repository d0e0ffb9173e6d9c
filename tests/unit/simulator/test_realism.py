"""The simulated platform looks like a real events platform: every figure of docs/simulator.md's
"Realism" table falls in its plausible range (generation only, no storage: a few seconds)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from analytics.management.commands.bootstrap import _incidents_sentence
from analytics.simulator import config_build
from analytics.simulator.behaviour.engine import Simulation
from analytics.simulator.realism import REALISM_RANGES, realism_measure
from tests.unit.simulator.conftest import END_DATE, TODAY


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    config = config_build(
        users=5000, days=90, seed=12, end_date=END_DATE, time_zone="Asia/Kolkata", today=TODAY, anomalies=True
    )
    return realism_measure(Simulation(config))


@pytest.mark.parametrize("name", sorted(REALISM_RANGES))
def test_each_realism_figure_is_in_its_plausible_range(figures: dict[str, float], name: str) -> None:
    bounds = REALISM_RANGES[name]
    assert bounds.low <= figures[name] <= bounds.high, (name, figures[name], bounds)


def test_free_seats_go_unused_far_more_often_than_paid_ones(figures: dict[str, float]) -> None:
    assert figures["no_show_free"] > 2 * figures["no_show_paid"]


def test_the_demo_says_in_one_sentence_that_it_holds_injected_incidents(tmp_path: Path) -> None:
    truth = tmp_path / "ground_truth.json"
    truth.write_bytes(orjson.dumps({"anomalies": [{"type": "traffic_drop"}, {"type": "error_burst"}]}))
    sentence = _incidents_sentence(truth)
    assert sentence.startswith("The demo data contains 2 injected incidents on purpose (error burst, traffic drop)")
    assert str(truth) in sentence and sentence.count(". ") == 0 and sentence.endswith(").")
    truth.write_bytes(orjson.dumps({"anomalies": []}))
    assert _incidents_sentence(truth) == ""
    assert _incidents_sentence(tmp_path / "missing.json") == ""
