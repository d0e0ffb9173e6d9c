"""Churn risk and conversion probability end to end on a simulated platform (SQLite, tasks in-process):
trained through the registry with a temporal split, scored in bulk, read by the KRI and the behaviour
answer. Quality is measured in `make eval` (docs/evaluation.md), not here."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics import clock
from analytics.intelligence.behaviour.service import user_behavior_analyze
from analytics.intelligence.churn.features import FEATURES, churn_features, churn_frames
from analytics.intelligence.churn.scoring import person_predictions_refresh
from analytics.intelligence.predictions import prediction_models_train, scheduled_freshness
from analytics.intelligence.registry import model_active
from analytics.models import PredictionModel, UserBehaviorProfile, UserEvent, UserPrediction
from analytics.models.predictions import ModelStatus

pytestmark = pytest.mark.django_db


def test_both_models_are_trained_on_the_past_and_evaluated_on_the_period_after(platform: dict[str, Any]) -> None:
    assert platform["outcomes"]["churn"]["status"] == "active", platform["outcomes"]
    assert platform["outcomes"]["conversion"]["status"] == "active", platform["outcomes"]
    for name in ("churn", "conversion"):
        row = model_active(name)
        assert row is not None and row.version == 1
        assert row.evaluated_on == platform["end"] - timedelta(days=30)
        assert row.training_end == row.evaluated_on  # every training label ends before the evaluation cutoff
        assert row.features == list(FEATURES)
        assert row.training_rows >= 300
        assert 0.5 < row.evaluation["auc"] <= 1.0 and row.evaluation["baseline_auc"] is not None
        assert row.evaluation["rows"] >= 100


def test_features_never_read_anything_after_the_cutoff(platform: dict[str, Any]) -> None:
    cutoff = platform["end"] - timedelta(days=30)
    frame = churn_features(as_of=cutoff)
    later = UserEvent.objects.filter(timestamp__gte=cutoff)
    deleted = list(later.values_list("id", flat=True))
    assert deleted  # the month after the cutoff holds events …
    saved = list(later.values())
    later.delete()  # … and the features do not change without them
    try:
        again = churn_features(as_of=cutoff)
    finally:
        UserEvent.objects.bulk_create(UserEvent(**row) for row in saved)
    assert again.user_ids == frame.user_ids
    np.testing.assert_array_equal(np.nan_to_num(again.matrix, nan=-1), np.nan_to_num(frame.matrix, nan=-1))


def test_a_split_read_together_equals_each_cutoff_read_alone(platform: dict[str, Any]) -> None:
    """On the simulated platform: every aggregate (sessions, no-shows, sign-up sessions, labels) of a
    cutoff is the same whether it is read in a split's one pass or alone."""
    end = platform["end"] - timedelta(days=30)
    cutoffs = [end - timedelta(days=37), end - timedelta(days=30), end]
    for cutoff, frame in zip(cutoffs, churn_frames(cutoffs, labels=True), strict=True):
        alone = churn_features(as_of=cutoff, labels=True)
        assert frame.rows > 100 and frame.user_ids == alone.user_ids
        np.testing.assert_allclose(np.nan_to_num(frame.matrix, nan=-1), np.nan_to_num(alone.matrix, nan=-1))
        for label in ("churned", "converted"):
            assert getattr(frame, label).tolist() == getattr(alone, label).tolist()


def test_scoring_stores_a_prediction_per_active_user_and_on_their_profiles(platform: dict[str, Any]) -> None:
    scoring = platform["scoring"]
    population = churn_features(as_of=platform["end"]).user_ids
    assert scoring["people"] == len(population) == UserPrediction.objects.count() > 100
    assert set(UserPrediction.objects.values_list("user_id", flat=True)) == set(population)
    risks = np.array(UserPrediction.objects.values_list("churn_risk", flat=True), dtype=float)
    assert ((risks >= 0) & (risks <= 1)).all() and risks.std() > 0.1  # probabilities that tell people apart
    assert scoring["high_churn_risk"] == int((risks >= 0.7).sum())
    profiled = UserBehaviorProfile.objects.filter(user_id__in=population)
    assert profiled.exists() and not profiled.filter(churn_risk_score__isnull=True).exists()
    for profile in profiled[:50]:
        stored = UserPrediction.objects.get(user_id=profile.user_id)
        assert profile.churn_risk_score == stored.churn_risk
        assert profile.conversion_probability == stored.conversion_probability


def test_scoring_again_the_same_day_replaces_that_days_predictions(platform: dict[str, Any]) -> None:
    before = UserPrediction.objects.count()
    again = person_predictions_refresh(as_of=platform["end"])
    assert again.scored == before == UserPrediction.objects.count()


def test_the_behaviour_answer_carries_churn_risk_and_conversion_probability(platform: dict[str, Any]) -> None:
    user_id = UserPrediction.objects.order_by("-churn_risk").values_list("user_id", flat=True).first()
    assert user_id is not None
    clock.freeze(platform["end"])
    try:
        answer = user_behavior_analyze(user_id=user_id, days=30)
    finally:
        clock.freeze(None)
    stored = UserPrediction.objects.get(user_id=user_id)
    assert answer["churn_risk"] == pytest.approx(stored.churn_risk, abs=1e-4)
    assert answer["predictions"]["churn_risk"] == answer["churn_risk"]
    assert answer["predictions"]["conversion_probability"] == pytest.approx(stored.conversion_probability, abs=1e-4)
    assert answer["predictions"]["status"] == "ok"


def test_a_user_gone_for_over_30_days_is_not_scored_as_at_risk(platform: dict[str, Any], tmp_path: Path) -> None:
    gone = [
        u["user_id"]
        for u in platform["truth"]["users"]
        if u["state_at_end"]["churned_on"] and u["state_at_end"]["churned_on"] < "2026-01-01"
    ]
    assert gone
    clock.freeze(platform["end"])
    try:
        answer = user_behavior_analyze(user_id=gone[0], days=90)
    finally:
        clock.freeze(None)
    if answer["status"] == "ok":
        assert answer["churn_risk"] is None
        assert answer["predictions"]["status"] == "not_at_risk_population"


def test_retraining_on_the_same_data_promotes_a_second_version(platform: dict[str, Any]) -> None:
    outcome = prediction_models_train(as_of=platform["end"], names=["churn"])
    assert outcome == {"churn": {"status": "active", "version": 2, "decision": outcome["churn"]["decision"]}}
    assert PredictionModel.objects.get(name="churn", version=1).status == ModelStatus.RETIRED


def test_the_scheduled_training_leaves_a_freshly_trained_model_alone_unless_forced(platform: dict[str, Any]) -> None:
    """The schedule's rule (the task passes `scheduled_freshness()` unless forced). Catches: every scheduler
    start (the embedded one at each `make run`, a restarted beat) retraining every model that was trained an
    hour before."""
    newest = PredictionModel.objects.filter(name="churn").order_by("-version").first()
    assert newest is not None
    clock.freeze(newest.trained_at + timedelta(hours=1))
    try:
        left = prediction_models_train(names=["churn"], fresh_for=scheduled_freshness())
        assert left["churn"]["status"] == "fresh" and left["churn"]["version"] == newest.version
        assert PredictionModel.objects.filter(name="churn").count() == newest.version
        forced = prediction_models_train(names=["churn"])
        assert forced["churn"]["version"] == newest.version + 1
    finally:
        clock.freeze(None)
