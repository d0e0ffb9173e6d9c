"""The learned combiner, applied from its committed parameters (data/combiner.json).

Two linear heads read the same standardised features (features.FEATURE_NAMES):
- the rating head (ridge regression) predicts the mean human rating (−4…4). Regression pulls its
  predictions towards the mean by the factor `shrinkage` (the out-of-fold Pearson r); the rating is
  divided by it so predictions have the humans' spread, then by 4: that is `score` (clipped to −1…1).
- the label is the ground-truth rule applied to that rating: > 0.5 positive, < −0.5 negative,
  otherwise neutral (on `score`: ±0.125).
- the class head (multinomial logistic regression) gives the probability of each label; `confidence`
  is its probability of the returned label — a calibrated probability, not the score's size.
- a text in which neither VADER nor TextBlob found any sentiment word ("no evidence") is neutral with
  score 0, as VADER itself has it: what such texts mean differs between domains (neutral in tweets,
  mostly negative in movie snippets), and a learned lean would not carry over to a new one.

Nothing is fitted at start-up: `training.py` writes the parameters, this module only applies them,
with plain Python for one text and numpy for a batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from analytics.intelligence.sentiment.features import FEATURE_NAMES

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
RATING_SCALE = 4.0  # the human ratings run from −4 to +4
LABEL_BAND = 0.5  # ground truth: mean rating > 0.5 positive, < −0.5 negative
PARAMETERS_FILE = "combiner.json"
# Standardised features are clipped to ±Z_LIMIT, in training and here: a text unlike the training data
# cannot push a linear head to an extreme on one feature.
Z_LIMIT = 5.0
_NO_EVIDENCE = FEATURE_NAMES.index("no_evidence")


@dataclass(frozen=True)
class CombinerParameters:
    version: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    rating_intercept: float
    rating_weights: tuple[float, ...]
    shrinkage: float  # out-of-fold Pearson r of the rating head; predicted ratings are divided by it
    class_intercepts: tuple[float, float, float]  # in LABELS order
    class_weights: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
    trained_on: dict[str, int]
    hyperparameters: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "rating_head": {
                "intercept": self.rating_intercept,
                "weights": list(self.rating_weights),
                "shrinkage": self.shrinkage,
            },
            "class_head": {
                "labels": list(LABELS),
                "intercepts": list(self.class_intercepts),
                "weights": [list(row) for row in self.class_weights],
            },
            "trained_on": self.trained_on,
            "hyperparameters": self.hyperparameters,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CombinerParameters:
        features = tuple(data["features"])
        if features != FEATURE_NAMES:
            raise ValueError(f"combiner parameters are for features {features}, the code computes {FEATURE_NAMES}")
        if tuple(data["class_head"]["labels"]) != LABELS:
            raise ValueError("combiner parameters have unexpected labels")
        weights = data["class_head"]["weights"]
        intercepts = data["class_head"]["intercepts"]
        return cls(
            version=str(data["version"]),
            features=features,
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) for x in data["scale"]),
            rating_intercept=float(data["rating_head"]["intercept"]),
            rating_weights=tuple(float(x) for x in data["rating_head"]["weights"]),
            shrinkage=float(data["rating_head"]["shrinkage"]),
            class_intercepts=(float(intercepts[0]), float(intercepts[1]), float(intercepts[2])),
            class_weights=(
                tuple(float(x) for x in weights[0]),
                tuple(float(x) for x in weights[1]),
                tuple(float(x) for x in weights[2]),
            ),
            trained_on={str(k): int(v) for k, v in data.get("trained_on", {}).items()},
            hyperparameters={str(k): float(v) for k, v in data.get("hyperparameters", {}).items()},
        )


@dataclass(frozen=True)
class Combined:
    label: str
    score: float  # −1…1: the predicted mean human rating / 4
    confidence: float  # probability that `label` is right
    probabilities: dict[str, float]  # every label's probability


@cache
def committed_parameters() -> CombinerParameters:
    """The parameters in data/combiner.json (fitted on both shipped sets together)."""
    text = resources.files("analytics.intelligence.sentiment").joinpath("data", PARAMETERS_FILE).read_text("utf-8")
    return CombinerParameters.from_json(json.loads(text))


def label_of(score: float) -> str:
    """The ground-truth rule applied to a score (a rating / 4)."""
    band = LABEL_BAND / RATING_SCALE
    if score > band:
        return "positive"
    if score < -band:
        return "negative"
    return "neutral"


def _result(rating: float, logits: Sequence[float], shrinkage: float, *, no_evidence: bool) -> Combined:
    score = 0.0 if no_evidence else max(-1.0, min(1.0, rating / shrinkage / RATING_SCALE))
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    probabilities = {label: e / total for label, e in zip(LABELS, exps, strict=True)}
    label = "neutral" if no_evidence else label_of(score)
    return Combined(label=label, score=score, confidence=probabilities[label], probabilities=probabilities)


def combine(vector: Sequence[float], *, parameters: CombinerParameters | None = None) -> Combined:
    """The combined result for one feature vector (plain Python: no numpy overhead per text)."""
    p = parameters or committed_parameters()
    z = [max(-Z_LIMIT, min(Z_LIMIT, (x - m) / s)) for x, m, s in zip(vector, p.mean, p.scale, strict=True)]
    rating = p.rating_intercept + sum(w * x for w, x in zip(p.rating_weights, z, strict=True))
    logits = [
        b + sum(w * x for w, x in zip(row, z, strict=True))
        for b, row in zip(p.class_intercepts, p.class_weights, strict=True)
    ]
    return _result(rating, logits, p.shrinkage, no_evidence=vector[_NO_EVIDENCE] == 1.0)


def combine_batch(
    vectors: Sequence[Sequence[float]], *, parameters: CombinerParameters | None = None
) -> list[Combined]:
    """`combine` for many vectors at once (numpy)."""
    if not vectors:
        return []
    p = parameters or committed_parameters()
    matrix = np.asarray(vectors, dtype=float)
    z = np.clip((matrix - np.asarray(p.mean)) / np.asarray(p.scale), -Z_LIMIT, Z_LIMIT)
    ratings = p.rating_intercept + z @ np.asarray(p.rating_weights)
    logits = np.asarray(p.class_intercepts) + z @ np.asarray(p.class_weights).T
    no_evidence = matrix[:, _NO_EVIDENCE] == 1.0
    return [
        _result(float(r), row.tolist(), p.shrinkage, no_evidence=bool(n))
        for r, row, n in zip(ratings, logits, no_evidence, strict=True)
    ]
