"""Host factors: a person's vector is the least-squares step ALS itself takes for a user (checked against the
`implicit` library), and people are matched through the hosts their look-alikes went to."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from analytics.intelligence.recommendations.collaborative import CONFIDENCE, HostFactors


def _two_audiences(seed: int = 3) -> sp.csr_matrix:
    """60 people: the first 30 go to hosts 0–3, the others to hosts 4–7 (weights 1–6)."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((60, 8))
    for person in range(60):
        hosts = rng.choice(4, size=2, replace=False) + (0 if person < 30 else 4)
        dense[person, hosts] = rng.integers(1, 7, size=2)
    return sp.csr_matrix(dense)


def test_a_persons_vector_is_the_users_als_step() -> None:
    matrix = _two_audiences()
    with threadpool_limits(1, "blas"):  # as the service fits (collaborative.py)
        model = AlternatingLeastSquares(factors=4, regularization=0.1, iterations=10, random_state=1, use_cg=False)
        model.fit((matrix * CONFIDENCE).tocsr(), show_progress=False)
    factors = HostFactors(tuple(f"h{i}" for i in range(8)), np.asarray(model.item_factors), 0.1, 60)
    row = matrix.getrow(7)
    mine = factors.person({f"h{i}": float(w) for i, w in zip(row.indices, row.data, strict=True)})
    theirs = np.asarray(model.recalculate_user(7, (row * CONFIDENCE).tocsr())).ravel()
    assert mine is not None and np.allclose(mine, theirs, atol=1e-4)


def test_people_are_matched_through_the_hosts_their_look_alikes_went_to() -> None:
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=2, regularization=0.1, iterations=30, random_state=1, use_cg=False)
        model.fit((_two_audiences() * CONFIDENCE).tocsr(), show_progress=False)
    factors = HostFactors(tuple(f"h{i}" for i in range(8)), np.asarray(model.item_factors), 0.1, 60)
    person = factors.person({"h0": 6.0, "h1": 1.0})
    same_audience = [factors.affinity(person, f"h{i}") for i in (2, 3)]
    other_audience = [factors.affinity(person, f"h{i}") for i in (4, 5, 6, 7)]
    assert min(same_audience) > max(other_audience)
    assert factors.person({"nobody-knows": 3.0}) is None
    assert factors.affinity(None, "h1") == 0.0 and factors.affinity(person, "unknown") == 0.0


@pytest.mark.parametrize("weights", [{}, {"h1": 0.0}])
def test_no_interaction_is_no_vector(weights: dict[str, float]) -> None:
    factors = HostFactors(("h1",), np.ones((1, 2)), 0.1, 1)
    assert factors.person(weights) is None
