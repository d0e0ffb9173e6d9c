"""Fitting the combiner and writing its parameters (data/combiner.json).

    python -m analytics.intelligence.sentiment.training      # refit on both shipped sets, rewrite the file

Needs scikit-learn (the `dev` extra); the service itself only applies the written parameters.
Choices that favour what generalises over squeezing the two shipped sets:
- few features (features.FEATURE_NAMES), standardised, and strong L2 regularisation on both heads
  (ridge alpha `RIDGE_ALPHA`, logistic C `LOGISTIC_C`), fixed in advance rather than tuned per set;
- the two sets weigh the same in the committed fit (the movie set has 2.5 times as many items);
- the rating head's shrinkage (its out-of-fold Pearson r, by 5-fold cross-validation on the training
  data) rescales predictions to the humans' spread before the ground-truth rule labels them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from analytics import clock
from analytics.intelligence.sentiment.combiner import PARAMETERS_FILE, Z_LIMIT, CombinerParameters
from analytics.intelligence.sentiment.datasets import SET_FILES, set_features
from analytics.intelligence.sentiment.features import FEATURE_NAMES, INDICATOR_FEATURES

RIDGE_ALPHA = 10.0
LOGISTIC_C = 0.1
SHRINKAGE_FOLDS = 5


def _standardise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale per feature; indicators keep their 0/1 scale (see features.INDICATOR_FEATURES)."""
    mean = vectors.mean(axis=0)
    scale = vectors.std(axis=0)
    scale[scale < 1e-9] = 1.0
    for i, name in enumerate(FEATURE_NAMES):
        if name in INDICATOR_FEATURES:
            mean[i], scale[i] = 0.0, 1.0
    return mean, scale


def _z(vectors: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.clip((vectors - mean) / scale, -Z_LIMIT, Z_LIMIT)


def out_of_fold_shrinkage(
    *, vectors: np.ndarray, ratings: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None, seed: int = 0
) -> float:
    """Pearson r between the ratings and the rating head's out-of-fold predictions on the training data."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import StratifiedKFold

    predicted = np.zeros(len(ratings))
    for train, test in StratifiedKFold(SHRINKAGE_FOLDS, shuffle=True, random_state=seed).split(vectors, labels):
        mean, scale = _standardise(vectors[train])
        model = Ridge(alpha=RIDGE_ALPHA).fit(
            _z(vectors[train], mean, scale), ratings[train], sample_weight=None if weights is None else weights[train]
        )
        predicted[test] = model.predict(_z(vectors[test], mean, scale))
    r = float(np.corrcoef(predicted, ratings)[0, 1])
    return min(1.0, max(0.05, r))


def fit_combiner(
    *,
    vectors: np.ndarray,
    ratings: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    shrinkage: float | None = None,
    trained_on: dict[str, int] | None = None,
) -> CombinerParameters:
    """Both heads fitted on (vectors, ratings, labels); `shrinkage` None = measured out-of-fold here."""
    from sklearn.linear_model import LogisticRegression, Ridge

    mean, scale = _standardise(vectors)
    standardised = _z(vectors, mean, scale)
    ridge = Ridge(alpha=RIDGE_ALPHA).fit(standardised, ratings, sample_weight=weights)
    logistic = LogisticRegression(C=LOGISTIC_C, max_iter=5000).fit(standardised, labels, sample_weight=weights)
    if list(logistic.classes_) != [0, 1, 2]:
        raise ValueError("the training data must hold all three labels")
    if shrinkage is None:
        shrinkage = out_of_fold_shrinkage(vectors=vectors, ratings=ratings, labels=labels, weights=weights)
    coef = logistic.coef_
    return CombinerParameters(
        version=clock.now().strftime("%Y-%m-%d"),
        features=FEATURE_NAMES,
        mean=tuple(float(x) for x in mean),
        scale=tuple(float(x) for x in scale),
        rating_intercept=float(ridge.intercept_),
        rating_weights=tuple(float(x) for x in ridge.coef_),
        shrinkage=float(shrinkage),
        class_intercepts=(float(logistic.intercept_[0]), float(logistic.intercept_[1]), float(logistic.intercept_[2])),
        class_weights=(
            tuple(float(x) for x in coef[0]),
            tuple(float(x) for x in coef[1]),
            tuple(float(x) for x in coef[2]),
        ),
        trained_on=trained_on or {},
        hyperparameters={"ridge_alpha": RIDGE_ALPHA, "logistic_c": LOGISTIC_C, "shrinkage_folds": SHRINKAGE_FOLDS},
    )


def fit_on_sets(
    names: Sequence[str], *, shrinkage: float | None = None, sample: int | None = None
) -> CombinerParameters:
    """The combiner fitted on the named shipped sets, each set weighing the same."""
    parts = [set_features(name, sample) for name in names]
    vectors = np.vstack([p.vectors for p in parts])
    ratings = np.concatenate([p.ratings for p in parts])
    labels = np.concatenate([p.labels for p in parts])
    total = len(ratings)
    weights = np.concatenate([np.full(len(p.ratings), total / (len(parts) * len(p.ratings))) for p in parts])
    return fit_combiner(
        vectors=vectors,
        ratings=ratings,
        labels=labels,
        weights=weights,
        shrinkage=shrinkage,
        trained_on={p.name: len(p.ratings) for p in parts},
    )


def train(*, path: Path | None = None) -> CombinerParameters:
    """Refit on both shipped sets together and write data/combiner.json (or `path`)."""
    parameters = fit_on_sets(sorted(SET_FILES))
    target = path or Path(str(resources.files("analytics.intelligence.sentiment").joinpath("data", PARAMETERS_FILE)))
    target.write_text(json.dumps(parameters.to_json(), indent=2) + "\n", encoding="utf-8")
    return parameters


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    written = train()
    print(f"wrote {PARAMETERS_FILE}: shrinkage {written.shrinkage:.3f}, trained on {written.trained_on}")
