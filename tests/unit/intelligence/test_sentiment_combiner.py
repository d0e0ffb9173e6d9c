"""The combiner applied from its committed parameters: consistent labels, scores and probabilities."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from analytics.intelligence.sentiment.combiner import (
    LABELS,
    CombinerParameters,
    combine,
    combine_batch,
    committed_parameters,
    label_of,
)
from analytics.intelligence.sentiment.features import FEATURE_NAMES, sentiment_features

TEXTS = [
    "Absolutely loved it, best night of the year!",
    "The food was cold and the staff were rude.",
    "Doors open at 7 and the show starts at 8.",
    "Not bad at all, but the queue was long.",
]


def test_committed_parameters_match_the_features_the_code_computes() -> None:
    parameters = committed_parameters()
    assert parameters.features == FEATURE_NAMES
    assert len(parameters.rating_weights) == len(parameters.mean) == len(FEATURE_NAMES)
    assert all(len(row) == len(FEATURE_NAMES) for row in parameters.class_weights)
    assert 0.05 < parameters.shrinkage <= 1.0
    assert parameters.trained_on == {"movies": 10_605, "tweets": 4_200}  # fitted on both sets together


def test_parameters_for_other_features_are_refused() -> None:
    data = json.loads(
        resources.files("analytics.intelligence.sentiment").joinpath("data", "combiner.json").read_text("utf-8")
    )
    data["features"] = [*data["features"], "something_new"]
    with pytest.raises(ValueError, match="features"):
        CombinerParameters.from_json(data)


def test_one_text_and_a_batch_give_the_same_results() -> None:
    vectors = [sentiment_features(t).vector() for t in TEXTS]
    singles = [combine(v) for v in vectors]
    batch = combine_batch(vectors)
    for one, many in zip(singles, batch, strict=True):
        assert one.label == many.label
        assert one.score == pytest.approx(many.score, abs=1e-9)
        assert one.confidence == pytest.approx(many.confidence, abs=1e-9)


def test_label_follows_the_score_and_confidence_is_that_labels_probability() -> None:
    for vector in (sentiment_features(t).vector() for t in TEXTS):
        result = combine(vector)
        assert -1.0 <= result.score <= 1.0
        assert result.label == label_of(result.score)
        assert sum(result.probabilities.values()) == pytest.approx(1.0)
        assert set(result.probabilities) == set(LABELS)
        assert result.confidence == result.probabilities[result.label]


def test_the_ground_truth_rule_on_the_score_scale() -> None:
    assert [label_of(s) for s in (0.2, 0.126, 0.125, 0.0, -0.125, -0.126)] == [
        "positive",
        "positive",
        "neutral",
        "neutral",
        "neutral",
        "negative",
    ]


def test_a_text_without_any_sentiment_word_is_neutral_with_score_zero() -> None:
    result = combine(sentiment_features("Doors open at 7 and the show starts at 8.").vector())
    assert (result.label, result.score) == ("neutral", 0.0)


def test_an_extreme_feature_value_cannot_push_the_score_past_its_range() -> None:
    vector = np.asarray(sentiment_features("Great!").vector())
    vector[FEATURE_NAMES.index("log_words")] = 1e6
    result = combine(vector.tolist())
    assert -1.0 <= result.score <= 1.0 and 0.0 <= result.confidence <= 1.0
