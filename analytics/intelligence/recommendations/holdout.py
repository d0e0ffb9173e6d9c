"""A temporal holdout for recommendations: at `cutoff`, the listings open then are the candidates; a person's
positives are the candidates they asked to join between `cutoff` and `end` (never one they had asked for
before it). Shared by the registry's training (the fresh evaluation of every version) and `make eval`."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from analytics.intelligence.recommendations.candidates import Candidate, open_listings
from analytics.intelligence.recommendations.collaborative import HostFactors
from analytics.intelligence.recommendations.ranking import rank
from analytics.intelligence.recommendations.tastes import Taste, tastes_read
from analytics.models import UserEvent

K = 10


def ranking_metrics(ranked: list[str], positives: set[str], k: int = K) -> tuple[float, float]:
    """(recall@k, NDCG@k) of one person's ranking."""
    hits = [1.0 if item in positives else 0.0 for item in ranked[:k]]
    dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(positives), k)))
    return sum(hits) / len(positives), dcg / ideal


@dataclass
class Scores:
    recall: list[float] = field(default_factory=list)
    ndcg: list[float] = field(default_factory=list)
    cold_recall: list[float] = field(default_factory=list)

    @staticmethod
    def _mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    @property
    def mean_recall(self) -> float:
        return self._mean(self.recall)

    @property
    def mean_ndcg(self) -> float:
        return self._mean(self.ndcg)

    @property
    def mean_cold_recall(self) -> float:
        return self._mean(self.cold_recall)


@dataclass
class Holdout:
    cutoff: datetime
    candidates: list[Candidate]
    positives: dict[str, set[str]]
    tastes: dict[str, Taste]

    @property
    def users(self) -> list[str]:
        return sorted(u for u, items in self.positives.items() if items)

    @property
    def requests(self) -> int:
        return sum(len(items) for items in self.positives.values())

    def score(self, ranking: Callable[[Taste], list[str]]) -> Scores:
        scores = Scores()
        for user in self.users:
            taste = self.tastes[user]
            recall, ndcg = ranking_metrics(ranking(taste), self.positives[user])
            scores.recall.append(recall)
            scores.ndcg.append(ndcg)
            if taste.cold:
                scores.cold_recall.append(recall)
        return scores

    def hybrid(self, factors: HostFactors | None) -> Callable[[Taste], list[str]]:
        return lambda taste: [r.candidate.listing_id for r in rank(taste, self.candidates, limit=K, factors=factors)]


def holdout_read(*, cutoff: datetime, end: datetime) -> Holdout:
    candidates = open_listings(cutoff)
    ids = [c.listing_id for c in candidates]
    positives: dict[str, set[str]] = defaultdict(set)
    for user, listing in UserEvent.objects.filter(
        event_name="event_requested", listing_id__in=ids, timestamp__gte=cutoff, timestamp__lt=end
    ).values_list("user_id", "listing_id"):
        if user:
            positives[str(user)].add(str(listing))
    tastes = tastes_read(positives, now=cutoff)
    for user, taste in tastes.items():
        positives[user] -= taste.requested  # asked before the cutoff: never recommended, not a positive
    return Holdout(cutoff, candidates, dict(positives), tastes)
