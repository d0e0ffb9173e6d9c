"""Clustering users on their standardised behavioural features.

k-means on the standardised clustering features (`segments/features.py`, `CLUSTER_FEATURES`). With
`n_clusters=None` the number of segments is chosen from the data between 3 and 8: the one with the best
silhouette; an explicit number (2–20) is honoured. Each user's membership strength is the probability of
their segment under an isotropic Gaussian around each centre (the spread is the mean within-segment
variance), so a user between two centres has a strength near 1/2. Fitting is seeded, so the same data
gives the same segments. (A Gaussian mixture chosen by BIC was measured beside it and did worse on both
the agreement with the true personas and the stability: docs/evaluation.md.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analytics.errors import ValidationFailed
from analytics.intelligence.segments.features import CLUSTER_FEATURES, FEATURES

AUTO_RANGE = (3, 8)
EXPLICIT_RANGE = (2, 20)
MIN_USERS_PER_SEGMENT = 5
SEED = 7


@dataclass(frozen=True)
class Segmentation:
    n_clusters: int
    chosen_by: str  # "silhouette" or "requested"
    labels: list[int]  # per user, in input order
    strengths: list[float]  # membership probability of the assigned segment
    centres: list[dict[str, float]]  # per segment: z-scores against all users
    centres_raw: list[dict[str, float]]  # per segment: feature values in their own units
    sizes: list[int]
    silhouette: float | None
    silhouette_by_k: dict[int, float] = field(default_factory=dict)
    means: list[float] = field(default_factory=list)  # the standardisation, to place new users
    scales: list[float] = field(default_factory=list)


def _matrix(vectors: Sequence[dict[str, float]], features: tuple[str, ...]) -> Any:
    import numpy as np

    return np.array([[float(v[f]) for f in features] for v in vectors], dtype=float)


def _kmeans(z: Any, k: int) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(z)


def _silhouette(z: Any, labels: Any) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(z, labels, sample_size=min(len(z), 5000), random_state=SEED))


def memberships(z: Any, centres: Any) -> Any:
    """Per user, the probability of each segment under isotropic Gaussians around the centres."""
    import numpy as np

    distances = ((z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    spread = max(float(distances.min(axis=1).mean()) / z.shape[1], 1e-6)
    logits = -distances / (2.0 * spread * z.shape[1])
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def segment(vectors: Sequence[dict[str, float]], *, n_clusters: int | None = None) -> Segmentation:
    """Cluster the users whose feature vectors are given (in order)."""
    import numpy as np

    if n_clusters is not None and not EXPLICIT_RANGE[0] <= n_clusters <= EXPLICIT_RANGE[1]:
        raise ValidationFailed(
            f"n_clusters is {EXPLICIT_RANGE[0]}…{EXPLICIT_RANGE[1]} (or null to choose from the data)",
            code="invalid_n_clusters",
        )
    smallest = n_clusters or AUTO_RANGE[0]
    if len(vectors) < max(smallest * MIN_USERS_PER_SEGMENT, 10):
        raise ValidationFailed(
            f"too few users with enough behaviour to form {smallest} segments ({len(vectors)})",
            code="not_enough_users",
            details={"users": len(vectors)},
        )
    x = _matrix(vectors, CLUSTER_FEATURES)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    z = (x - means) / scales
    silhouettes: dict[int, float] = {}
    if n_clusters is None:
        largest = min(AUTO_RANGE[1], len(vectors) // MIN_USERS_PER_SEGMENT)
        fits = {k: _kmeans(z, k) for k in range(AUTO_RANGE[0], largest + 1)}
        silhouettes = {k: _silhouette(z, model.labels_) for k, model in fits.items()}
        k = max(silhouettes, key=lambda key: (silhouettes[key], -key))
        model, chosen_by = fits[k], "silhouette"
    else:
        k, model, chosen_by = n_clusters, _kmeans(z, n_clusters), "requested"
    probabilities = memberships(z, model.cluster_centers_)
    labels = np.asarray(model.labels_)
    # Renumber by size (largest first) so that runs are easy to compare.
    order = sorted(range(k), key=lambda c: (-int((labels == c).sum()), c))
    rank = {c: i for i, c in enumerate(order)}
    labels = np.array([rank[int(c)] for c in labels])
    probabilities = probabilities[:, order]
    sizes = [int((labels == c).sum()) for c in range(k)]
    # Centres are described on every feature, standardised against all users.
    described = _matrix(vectors, FEATURES)
    d_means, d_scales = described.mean(axis=0), described.std(axis=0)
    d_scales[d_scales == 0] = 1.0
    dz = (described - d_means) / d_scales
    centres, raw = [], []
    for c in range(k):
        members = labels == c
        centres.append({f: round(float(v), 4) for f, v in zip(FEATURES, dz[members].mean(axis=0), strict=True)})
        raw.append({f: round(float(v), 4) for f, v in zip(FEATURES, described[members].mean(axis=0), strict=True)})
    used = len(set(labels.tolist()))
    silhouette = silhouettes.get(k) if n_clusters is None else (_silhouette(z, labels) if used > 1 else None)
    return Segmentation(
        n_clusters=k,
        chosen_by=chosen_by,
        labels=[int(v) for v in labels],
        strengths=[round(float(probabilities[i, label]), 4) for i, label in enumerate(labels)],
        centres=centres,
        centres_raw=raw,
        sizes=sizes,
        silhouette=None if silhouette is None else round(silhouette, 4),
        silhouette_by_k={k: round(v, 4) for k, v in silhouettes.items()},
        means=[float(v) for v in means],
        scales=[float(v) for v in scales],
    )
