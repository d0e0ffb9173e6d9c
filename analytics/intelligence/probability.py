"""Calibrated probability models and the measures every prediction is judged by.

`CalibratedBoosting` is the model of the per-person and per-request predictions (churn, conversion,
attendance): scikit-learn's histogram gradient boosting (missing values handled natively), then an
isotonic map fitted on held-out predictions of the training rows, so that a score of 0.7 means seven in
ten. `LogisticBaseline` is the simple comparison each model must beat. `binary_scores` gives ROC-AUC,
Brier score, expected calibration error and a reliability table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FOLDS = 4  # the calibration map is fitted on predictions for rows the booster did not see
CROSS_FIT_MAX_ROWS = 20_000
SEED = 20261203
# Isotonic calibration is a step function: it would give many people the same probability and throw
# away the booster's ranking inside each step (about 0.002 of ROC-AUC on real purchase data). Adding this
# fraction of the raw score keeps the map strictly increasing while moving no probability by more than it.
TIE_BREAK = 1e-6


@dataclass
class CalibratedBoosting:
    """Gradient boosting whose scores are mapped to probabilities by isotonic regression."""

    features: tuple[str, ...]
    max_iter: int = 800
    learning_rate: float = 0.03
    max_leaf_nodes: int = 8
    min_samples_leaf: int = 80
    booster: HistGradientBoostingClassifier | None = None
    calibrator: IsotonicRegression | None = None
    rows: int = 0

    @property
    def algorithm(self) -> str:
        return (
            f"HistGradientBoostingClassifier(max_iter≤{self.max_iter}, learning_rate={self.learning_rate}, "
            f"max_leaf_nodes={self.max_leaf_nodes}, early stopping) + isotonic calibration on held-out "
            f"predictions (out-of-fold up to {CROSS_FIT_MAX_ROWS:,} rows, a held-out quarter above)"
        )

    def _booster(self, rows: int) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min(self.min_samples_leaf, max(5, rows // 20)),
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=30,
            random_state=SEED,
        )

    def fit(self, matrix: np.ndarray, labels: np.ndarray, *, groups: np.ndarray | None = None) -> CalibratedBoosting:
        """Fit on `matrix`. Up to CROSS_FIT_MAX_ROWS rows the calibration map is fitted on out-of-fold
        predictions (4 folds; the booster then learns from every row — a held-out quarter would cost a
        small data set its accuracy); above it, on a held-out quarter. Rows of one group (a person seen at
        several cutoffs) stay in one fold."""
        rng = np.random.default_rng(SEED)
        keys = np.arange(len(labels)) if groups is None else groups
        unique = np.unique(keys)
        fold_of_key = dict(zip(unique.tolist(), rng.integers(0, FOLDS, len(unique)).tolist(), strict=True))
        folds = np.array([fold_of_key[k] for k in keys.tolist()])
        if len(labels) <= CROSS_FIT_MAX_ROWS:
            held_scores = np.zeros(len(labels))
            for fold in range(FOLDS):
                inside = folds == fold
                if inside.all() or not inside.any() or len(np.unique(labels[~inside])) < 2:
                    continue
                model = self._booster(int((~inside).sum())).fit(matrix[~inside], labels[~inside])
                held_scores[inside] = model.predict_proba(matrix[inside])[:, 1]
            booster = self._booster(len(labels)).fit(matrix, labels)
            held = np.ones(len(labels), dtype=bool)
        else:
            held = folds == 0
            booster = self._booster(int((~held).sum())).fit(matrix[~held], labels[~held])
            held_scores = booster.predict_proba(matrix[held])[:, 1]
        calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        calibrator.fit(held_scores, labels[held])
        self.booster, self.calibrator, self.rows = booster, calibrator, len(labels)
        return self

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        if self.booster is None or self.calibrator is None:
            raise RuntimeError("the model is not fitted")
        if len(matrix) == 0:
            return np.zeros(0)
        raw = self.booster.predict_proba(matrix)[:, 1]
        calibrated = np.asarray(self.calibrator.predict(raw), dtype=float)
        return np.clip((1.0 - TIE_BREAK) * calibrated + TIE_BREAK * raw, 0.0, 1.0)


@dataclass
class LogisticBaseline:
    """Logistic regression on a few standardised columns (NaN → 0): the baseline of a prediction."""

    columns: tuple[int, ...]
    pipeline: Any = None

    def fit(self, matrix: np.ndarray, labels: np.ndarray) -> LogisticBaseline:
        self.pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        self.pipeline.fit(np.nan_to_num(matrix[:, list(self.columns)]), labels)
        return self

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        if len(matrix) == 0:
            return np.zeros(0)
        return np.asarray(self.pipeline.predict_proba(np.nan_to_num(matrix[:, list(self.columns)]))[:, 1], dtype=float)


@dataclass(frozen=True)
class BinaryScores:
    rows: int
    positives: int
    auc: float | None
    brier: float
    ece: float
    reliability: list[tuple[str, int, float, float]] = field(default_factory=list)  # bin, n, mean p, share

    def as_dict(self) -> dict[str, float | int | None]:
        return {"rows": self.rows, "positives": self.positives, "auc": self.auc, "brier": self.brier, "ece": self.ece}


def binary_scores(probabilities: np.ndarray, labels: np.ndarray, *, bins: int = 10) -> BinaryScores:
    """ROC-AUC (None with one class only), Brier score, ECE over `bins` equal-width bins, reliability."""
    probabilities = np.asarray(probabilities, dtype=float)
    labels = np.asarray(labels, dtype=int)
    auc = float(roc_auc_score(labels, probabilities)) if len(np.unique(labels)) == 2 else None
    table: list[tuple[str, int, float, float]] = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = (probabilities >= low) & ((probabilities < high) | ((b == bins - 1) & (probabilities <= 1.0)))
        count = int(members.sum())
        if count:
            mean_p = float(probabilities[members].mean())
            share = float(labels[members].mean())
            ece += count / len(labels) * abs(mean_p - share)
            table.append((f"{low:.1f}–{high:.1f}", count, mean_p, share))
    return BinaryScores(
        rows=len(labels),
        positives=int(labels.sum()),
        auc=auc,
        brier=float(brier_score_loss(labels, probabilities)) if len(labels) else 0.0,
        ece=ece,
        reliability=table,
    )
