"""Random draws the standard library does not have."""

from __future__ import annotations

import math
import random


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (inversion; the means here are small, a normal approximation above 30)."""
    if mean <= 0.0:
        return 0
    if mean > 30.0:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold = rng.random()
    term = math.exp(-mean)
    total = term
    count = 0
    while threshold > total:
        count += 1
        term *= mean / count
        total += term
    return count


def log_normal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))
