"""Narratives written by a model that speaks OpenAI's protocol (a local server): kept only when every number
in them appears in the facts the model was given; otherwise, and when the model fails, the template's."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from analytics.intelligence.insights.narrative import numbers_in, numbers_supported
from analytics.intelligence.insights.service import insights_generate
from analytics.metrics.periods import business_today
from analytics.models import AIInsight, DetectedAnomaly
from tests.support.openai_server import OpenAIServer


def test_numbers_are_read_with_thousands_separators_decimals_and_signs() -> None:
    assert numbers_in("₹16,432 on 12 Mar, −5% and 0.25 of 3.50") == {n for n in numbers_in("16432 12 -5 0.25 3.5")}
    assert numbers_supported("fell 12% to 3,400", '{"change": -12, "value": 3400}')
    assert not numbers_supported("fell 13% to 3,400", '{"change": -12, "value": 3400}')
    assert numbers_supported("no numbers at all", "{}")


def _anomaly() -> None:
    DetectedAnomaly.objects.create(
        metric_name="payment_failure_rate",
        day=business_today(),
        expected_value=0.02,
        actual_value=0.31,
        z_score=9.5,
        direction="up",
        severity="critical",
        harmful=True,
        breakdown={},
        detected_at=datetime.fromisoformat("2026-03-10T12:00:00+00:00"),
    )


@pytest.mark.django_db
def test_a_narrative_using_only_the_facts_numbers_is_kept(openai: OpenAIServer, frozen_now: datetime) -> None:
    _anomaly()
    openai.narrate_with(
        lambda facts: (
            f"Payment failures jumped to {facts['figures']['actual_value']} against "
            f"{facts['figures']['expected_value']} expected: check the provider first."
        )
    )
    insights_generate(insight_types=["anomaly"])
    insight = AIInsight.objects.get()
    assert insight.narrative_source == "openai"
    assert insight.narrative == "Payment failures jumped to 0.31 against 0.02 expected: check the provider first."
    [request] = openai.requests()
    given = request.user_message
    assert numbers_in(insight.narrative) <= numbers_in(given)  # every number of the narrative is in the facts
    assert json.loads(given)["figures"]["metric_name"] == "payment_failure_rate"


@pytest.mark.django_db
def test_a_narrative_with_a_number_not_in_the_facts_falls_back_to_the_template(
    openai: OpenAIServer, frozen_now: datetime
) -> None:
    _anomaly()
    openai.narrate_with(lambda facts: "Payment failures jumped 1,450% and will cost about 37 bookings a day.")
    insights_generate(insight_types=["anomaly"])
    insight = AIInsight.objects.get()
    assert insight.narrative_source == "template" and insight.narrative == insight.description


@pytest.mark.django_db
def test_a_failing_model_leaves_the_template(openai: OpenAIServer, frozen_now: datetime) -> None:
    _anomaly()
    openai.fail_next(1, status=500)
    insights_generate(insight_types=["anomaly"])
    insight = AIInsight.objects.get()
    assert insight.narrative_source == "template" and len(openai.requests()) == 1
