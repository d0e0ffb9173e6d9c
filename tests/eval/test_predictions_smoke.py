"""Evaluation smoke: on a small simulated platform the churn and conversion models, trained through the
service's own temporal split, beat the recency/frequency logistic baseline — so `make eval` cannot rot
unseen. The evaluation simulates into this tier's own database (it empties it first). Churn, conversion,
revenue, recommendations and insights share a platform (simulated once); attendance has a larger one of its
own, so it comes after them."""

from __future__ import annotations

import pytest

from analytics.intelligence.churn.evaluation import evaluate

pytestmark = pytest.mark.django_db(transaction=True)


def test_churn_and_conversion_smoke_evaluation_beats_the_baseline() -> None:
    section = evaluate(smoke=True)
    for name in ("churn model (AUC)", "conversion model (AUC)"):
        model, baseline = section.beats_baseline[name]
        assert model > baseline, (name, section.markdown)
    assert {t.name for t in section.targets} == {
        "churn ROC-AUC closes half the distance from the baseline to the oracle",
        "churn ROC-AUC at least the baseline + 0.02",
        "conversion ROC-AUC beats the recency/frequency baseline",
    }
    assert "| oracle: 1 − p_any_session (latent state) |" in section.markdown


def test_revenue_forecast_smoke_evaluation_beats_repeating_last_week() -> None:
    from analytics.intelligence.forecasting.evaluation import evaluate as evaluate_revenue

    section = evaluate_revenue(smoke=True)
    model, baseline = section.beats_baseline["revenue forecast (−MASE)"]
    assert model > baseline, section.markdown


def test_recommendations_smoke_evaluation_ranks_better_than_popularity_and_below_the_oracle() -> None:
    from analytics.intelligence.recommendations.evaluation import evaluate as evaluate_recommendations

    section = evaluate_recommendations(smoke=True)
    model, baseline = section.beats_baseline["recommendations (NDCG@10)"]
    assert model > baseline, section.markdown
    assert "| oracle: the simulator's true chance of a request |" in section.markdown


def test_insight_smoke_evaluation_checks_the_churn_cohorts_against_what_happened() -> None:
    from analytics.intelligence.insights.evaluation import evaluate as evaluate_insights

    section = evaluate_insights(smoke=True)
    cohorts = next(t for t in section.targets if t.name.startswith("churn-risk cohorts"))
    assert cohorts.met and cohorts.measured == 1.0, section.markdown
    assert "| high churn risk (≥ 0.7) |" in section.markdown


def test_attendance_smoke_evaluation_beats_the_baseline() -> None:
    from analytics.intelligence.attendance.evaluation import evaluate as evaluate_attendance

    section = evaluate_attendance(smoke=True)
    for name in ("attendance model (AUC)", "listing forecast (−WAPE)"):
        model, baseline = section.beats_baseline[name]
        assert model > baseline, (name, section.markdown)
    assert "| oracle: the simulator's show-up probability of each seat |" in section.markdown


def test_anomaly_smoke_evaluation_finds_injected_incidents() -> None:
    from analytics.intelligence.anomalies.evaluation import evaluate as evaluate_anomalies

    section = evaluate_anomalies(smoke=True)
    found, baseline = section.beats_baseline["incidents found (share)"]
    assert found > 0.5 and baseline == 0.0, section.markdown
    assert any(t.name == "daily_active_users: F1 on the injected incidents" for t in section.targets)
