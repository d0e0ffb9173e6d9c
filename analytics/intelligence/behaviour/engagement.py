"""The engagement score: the probability that a user opens the app in the next 30 days, in [0, 1].

A time-decayed composite of what the user did before the instant of scoring — recent and exponentially
decayed session counts, recency, tenure, recent events, views and requests — whose weights are fitted by
logistic regression on simulated platforms to predict next-30-day activity (a browsing session in the 30
days after the instant). The fitted weights are committed (`engagement_model.json`), so scores never
depend on training at start-up; `train` refits them (`manage.py evaluate --refit-engagement` writes a new
file) and `make eval` measures them against a baseline and the simulator's oracle (docs/evaluation.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from analytics.intelligence.behaviour.features import BehaviourSnapshot

MODEL_PATH = Path(__file__).with_name("engagement_model.json")
MODEL_NAME = "engagement_logistic"
FEATURES = (
    "sessions_7d",
    "sessions_30d",
    "sessions_prev_30d",
    "decayed_sessions_7d",
    "decayed_sessions_30d",
    "days_since_last_session",
    "tenure_days",
    "events_30d",
    "views_30d",
    "requests_30d",
)


def feature_vector(snapshot: BehaviourSnapshot) -> list[float]:
    """The model's inputs (log-scaled counts; recency in months)."""
    return [
        math.log1p(snapshot.sessions_within(7)),
        math.log1p(snapshot.sessions_within(30)),
        math.log1p(snapshot.sessions_within(30, skip=30)),
        math.log1p(snapshot.decayed_sessions(7)),
        math.log1p(snapshot.decayed_sessions(30)),
        snapshot.days_since_last_session() / 30.0,
        math.log1p(snapshot.tenure_days()),
        math.log1p(snapshot.user_events(snapshot.events_30d)),
        math.log1p(snapshot.events_30d.get("event_viewed", 0)),
        math.log1p(snapshot.events_30d.get("event_requested", 0)),
    ]


@dataclass(frozen=True)
class EngagementModel:
    version: str
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    trained_on: dict[str, Any]

    def score(self, snapshot: BehaviourSnapshot) -> float:
        z = self.intercept
        for value, mean, scale, weight in zip(
            feature_vector(snapshot), self.means, self.scales, self.weights, strict=True
        ):
            z += weight * (value - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def as_json(self) -> dict[str, Any]:
        return {
            "model": MODEL_NAME,
            "version": self.version,
            "features": list(FEATURES),
            "means": list(self.means),
            "scales": list(self.scales),
            "weights": list(self.weights),
            "intercept": self.intercept,
            "trained_on": self.trained_on,
        }


_loaded: EngagementModel | None = None


def model_load(path: Path = MODEL_PATH) -> EngagementModel:
    global _loaded
    if _loaded is not None and path == MODEL_PATH:
        return _loaded
    data = orjson.loads(path.read_bytes())
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{path} was fitted on other features: {data['features']}")
    model = EngagementModel(
        version=data["version"],
        means=tuple(data["means"]),
        scales=tuple(data["scales"]),
        weights=tuple(data["weights"]),
        intercept=float(data["intercept"]),
        trained_on=data.get("trained_on", {}),
    )
    if path == MODEL_PATH:
        _loaded = model
    return model


def engagement_score(snapshot: BehaviourSnapshot) -> float:
    return model_load().score(snapshot)


def train(
    snapshots: Sequence[BehaviourSnapshot], labels: Sequence[int], *, version: str, trained_on: dict[str, Any]
) -> EngagementModel:
    """Fit the weights (L2-regularised logistic regression on standardised features)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.array([feature_vector(s) for s in snapshots], dtype=float)
    y = np.array(labels, dtype=int)
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales == 0] = 1.0
    fitted = LogisticRegression(C=1.0, max_iter=2000).fit((x - means) / scales, y)
    return EngagementModel(
        version=version,
        means=tuple(float(v) for v in means),
        scales=tuple(float(v) for v in scales),
        weights=tuple(float(v) for v in fitted.coef_[0]),
        intercept=float(fitted.intercept_[0]),
        trained_on=trained_on,
    )


def model_write(model: EngagementModel, path: Path = MODEL_PATH) -> None:
    global _loaded
    path.write_bytes(orjson.dumps(model.as_json(), option=orjson.OPT_INDENT_2) + b"\n")
    _loaded = None
