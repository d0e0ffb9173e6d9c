"""Collaborative signals: what people with a similar taste went for, learnt as host factors.

Listings are short-lived (a listing is open for days and then over), so people are matched through the
hosts they engaged with: a host's audience persists across their listings, and a new listing of a host
people like you went to carries that signal from its first day. The factors come from weighted implicit
feedback — views, requests and check-ins with each host over the last 180 days (`tastes.WEIGHTS`) — by
alternating least squares (the `implicit` library, Hu, Koren & Volinsky 2008). Only the host factors are kept:
a person's vector is solved from their own interactions when they are ranked (the same least-squares step
ALS takes for users), so someone who joined after training is matched too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from analytics.intelligence.recommendations.tastes import LOOKBACK_DAYS, WEIGHTS
from analytics.models import EventListing, UserEvent

FACTORS = 24
REGULARIZATION = 0.1
ITERATIONS = 15
CONFIDENCE = 2.0  # confidence of an interaction = CONFIDENCE × its weight (a view is 1)
SEED = 7
WEIGHT = 3.0  # the host affinity's weight in the ranking's score, when the training holdout says it helps
MIN_PEOPLE = 30
MIN_HOSTS = 5


@dataclass(frozen=True)
class HostFactors:
    hosts: tuple[str, ...]
    factors: np.ndarray  # hosts × FACTORS
    regularization: float
    people: int  # rows the factors were learnt from
    weight: float = WEIGHT  # in the ranking's score; 0 when training found they did not help (model.py)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {h: i for i, h in enumerate(self.hosts)})
        object.__setattr__(self, "_gram", self.factors.T @ self.factors)

    def person(self, interactions: Mapping[str, float]) -> np.ndarray | None:
        """The person's vector from their weighted interactions with hosts (None: none known here)."""
        index: dict[str, int] = self.__dict__["_index"]
        rows = [(index[h], CONFIDENCE * w) for h, w in interactions.items() if h in index and w > 0]
        if not rows:
            return None
        y = self.factors[[i for i, _ in rows]]
        c = np.array([w for _, w in rows])
        gram: np.ndarray = self.__dict__["_gram"]
        a = gram + (y.T * (c - 1.0)) @ y + self.regularization * np.eye(y.shape[1])
        b = (y * c[:, None]).sum(axis=0)
        return np.asarray(np.linalg.solve(a, b))

    def affinity(self, person: np.ndarray | None, host: str) -> float:
        """The person's predicted preference for the host (0 for an unknown person or host)."""
        index: dict[str, int] = self.__dict__["_index"]
        if person is None or host not in index:
            return 0.0
        return float(self.factors[index[host]] @ person)


def host_interactions(*, now: datetime) -> tuple[list[str], list[str], sp.csr_matrix]:
    """(people, hosts, people × hosts matrix of summed interaction weights) over the lookback before `now`."""
    rows = UserEvent.objects.filter(
        event_name__in=tuple(WEIGHTS),
        user_id__isnull=False,
        listing_id__isnull=False,
        timestamp__gte=now - timedelta(days=LOOKBACK_DAYS),
        timestamp__lt=now,
    ).values_list("user_id", "listing_id", "event_name")
    host_of = dict(EventListing.objects.exclude(host_id="").values_list("listing_id", "host_id"))
    people: dict[str, int] = {}
    hosts: dict[str, int] = {}
    cells: dict[tuple[int, int], float] = {}
    for user, listing, name in rows.iterator(chunk_size=20_000):
        host = host_of.get(str(listing))
        if host is None:
            continue
        key = (people.setdefault(str(user), len(people)), hosts.setdefault(host, len(hosts)))
        cells[key] = cells.get(key, 0.0) + WEIGHTS[name]
    matrix = sp.csr_matrix(
        (list(cells.values()), ([k[0] for k in cells], [k[1] for k in cells])), shape=(len(people), len(hosts))
    )
    return list(people), list(hosts), matrix


def host_factors_fit(*, now: datetime) -> HostFactors | None:
    """Host factors from the interactions before `now`; None below MIN_PEOPLE people or MIN_HOSTS hosts."""
    from implicit.als import AlternatingLeastSquares  # the library loads its native code on first use

    people, hosts, matrix = host_interactions(now=now)
    if len(people) < MIN_PEOPLE or len(hosts) < MIN_HOSTS:
        return None
    with threadpool_limits(1, "blas"):  # the library's advice: its own threads, not BLAS's
        model = AlternatingLeastSquares(
            factors=FACTORS, regularization=REGULARIZATION, iterations=ITERATIONS, random_state=SEED
        )
        model.fit((matrix * CONFIDENCE).tocsr(), show_progress=False)
    return HostFactors(tuple(hosts), np.asarray(model.item_factors), REGULARIZATION, len(people))
