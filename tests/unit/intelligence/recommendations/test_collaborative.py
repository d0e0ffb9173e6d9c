"""Host factors: a person's vector is the least-squares step ALS itself takes for a user (checked against the
`implicit` library), and people are matched through the hosts their look-alikes went to."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from analytics.intelligence.recommendations.collaborative import CONFIDENCE, HostFactors
from analytics.intelligence.recommendations.model import factors_help, paired_gain


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


def test_host_factors_are_used_only_when_they_help_by_more_than_chance() -> None:
    """Catches: collaborative signals switched on by a holdout gain that is noise (on both simulated platforms
    a +0.003 to +0.006 gain on the training holdout went with a loss on the evaluation's)."""
    people = 450
    noise_with = [1.0] * 10 + [0.0] * 8 + [0.5] * (people - 18)  # 10 people gained a hit, 8 lost one
    noise_without = [0.0] * 10 + [1.0] * 8 + [0.5] * (people - 18)
    helps, gain, se = factors_help(noise_with, noise_without)
    assert not helps and gain == 2 / people and gain > 0
    real_with = [1.0] * 60 + [0.0] * 5 + [0.5] * (people - 65)  # 60 gained, 5 lost
    real_without = [0.0] * 60 + [1.0] * 5 + [0.5] * (people - 65)
    helps, gain, se = factors_help(real_with, real_without)
    assert helps and gain == 55 / people and gain > 1.645 * se
    assert paired_gain([1.0], [0.0]) == (0.0, 0.0)  # one person is no evidence
