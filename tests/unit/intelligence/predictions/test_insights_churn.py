"""Churn-risk cohort insights on the package's simulated platform: the high-risk cohort as the stored scores
say, its margin stated conservatively, its drivers; and the generation as the 6-hourly task runs it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analytics import clock
from analytics.intelligence.churn.scoring import HIGH_CHURN_RISK
from analytics.intelligence.insights.churn_cohorts import churn_cohorts, scored_population
from analytics.intelligence.insights.service import insights_generate
from analytics.models import AIInsight, UserPrediction


@pytest.mark.django_db
def test_the_high_risk_cohort_is_who_the_stored_scores_say_with_a_conservative_margin(platform: dict[str, Any]) -> None:
    clock.freeze(platform["end"])
    try:
        findings = churn_cohorts(platform["end"])
        scored = scored_population(platform["end"])
    finally:
        clock.freeze(None)
    assert scored is not None
    stored = UserPrediction.objects.filter(scored_on=scored.day)
    high = [d for d in findings.drafts if d.target_id == "high_churn_risk"]
    assert len(high) == 1
    evidence = high[0].evidence
    assert evidence["cohort_size"] == stored.filter(churn_risk__gte=HIGH_CHURN_RISK).count()
    assert evidence["cohort_size"] + evidence["comparison_size"] == evidence["population"] == stored.count()
    expected = float(np.mean(scored.risk[scored.risk >= HIGH_CHURN_RISK]))
    assert evidence["cohort_expected_churn"] == pytest.approx(expected, abs=1e-3)
    assert 0 < evidence["stated_margin"] < evidence["difference"]  # the lower end of its 95% interval
    assert high[0].model_name == "churn" and high[0].model_version == str(platform["outcomes"]["churn"]["version"])
    drivers = evidence["drivers"]
    assert 1 <= len(drivers) <= 3
    assert [abs(d["standardised_difference"]) for d in drivers] == sorted(
        (abs(d["standardised_difference"]) for d in drivers), reverse=True
    )
    recency = next(d for d in drivers if d["feature"] == "recency_days")
    assert recency["cohort_mean"] > recency["comparison_mean"]  # the high-risk have been away longer
    for draft in findings.drafts:
        assert draft.evidence["stated_margin"] >= 0.05 and draft.evidence["cohort_size"] >= 30
    assert {n.subject for n in findings.not_enough_data} >= {"users who had a payment fail in the last 90 days"}


@pytest.mark.django_db
def test_generating_twice_refreshes_instead_of_repeating(platform: dict[str, Any]) -> None:
    clock.freeze(platform["end"])
    try:
        first = insights_generate(insight_types=["churn_risk_cohort", "revenue_outlook"])
        second = insights_generate(insight_types=["churn_risk_cohort", "revenue_outlook"])
    finally:
        clock.freeze(None)
        stored = list(AIInsight.objects.values_list("insight_type", "status"))
        AIInsight.objects.all().delete()
    assert first.created == first.by_type["churn_risk_cohort"] + first.by_type["revenue_outlook"] >= 2
    assert (second.created, second.refreshed, second.failed) == (0, first.created, {})
    assert sorted(stored) == sorted(
        [("churn_risk_cohort", "pending")] * first.by_type["churn_risk_cohort"] + [("revenue_outlook", "pending")]
    )
