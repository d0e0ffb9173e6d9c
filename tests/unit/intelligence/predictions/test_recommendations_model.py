"""The recommender in the model registry, on the package's simulated platform: too few open listings to judge
a ranking is "not enough data" (and the answer still comes, without host factors); trained anyway, a
version is promoted, its host factors load back from the database and serve the answer."""

from __future__ import annotations

from typing import Any

import pytest

from analytics import clock
from analytics.intelligence.recommendations import model as recommender
from analytics.intelligence.recommendations.collaborative import HostFactors
from analytics.intelligence.recommendations.service import recommendations_for
from analytics.intelligence.registry import model_active, model_active_estimator, model_train_and_promote
from analytics.models import PredictionModel, UserPrediction


def _answer(platform: dict[str, Any]) -> dict[str, Any]:
    user = UserPrediction.objects.order_by("user_id").values_list("user_id", flat=True).first()
    clock.freeze(platform["end"])
    try:
        return recommendations_for(user_id=str(user), limit=5)
    finally:
        clock.freeze(None)


@pytest.mark.django_db
def test_too_few_open_listings_to_judge_is_not_enough_data(platform: dict[str, Any]) -> None:
    outcome = platform["outcomes"]["recommendations"]
    assert outcome["status"] == "not_enough_data", outcome
    assert outcome["needed"] == "20 listings open at the holdout's start" and int(outcome["found"]) < 20
    answer = _answer(platform)
    assert answer["model_version"] == "" and "no host factors" in answer["model"]
    assert 1 <= len(answer["recommendations"]) <= 5


@pytest.mark.django_db
def test_a_trained_version_is_promoted_and_serves(platform: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recommender, "MIN_CANDIDATES", 1)  # this small platform's holdout, judged anyway
    try:
        row = model_train_and_promote(recommender.RECOMMENDATIONS, as_of=platform["end"])
        assert row.status == "active" and row.primary_metric == "recall_at_10"
        assert model_active("recommendations") is not None
        assert row.evaluation["people"] >= 30 and 0 < row.evaluation["recall_at_10"] <= 1
        active = model_active_estimator("recommendations")
        assert active is not None and isinstance(active[1], HostFactors)
        assert len(active[1].hosts) == row.evaluation["hosts"] >= 5
        answer = _answer(platform)
        assert answer["model_version"] == str(row.version) and "host factors" in answer["model"]
    finally:
        PredictionModel.objects.filter(name="recommendations").delete()
