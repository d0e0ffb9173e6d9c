"""The recommender in the model registry: `train_prediction_models` learns a version of the host factors
weekly, and the registry promotes it only if its fresh evaluation is not worse than the active version's.

Training at T holds out the 30 days before T (`holdout.py`): the host factors are learnt from the interactions
before T − 30 days, and the version is judged by the recall@10 of the hybrid ranking with them over who asked
to join what in the holdout. Unless the ranking does better there with them, the version keeps them with weight
0 (`host_factors_used: false`): collaborative signals are used only where the recent past says they help, by
more than chance: the per-person difference in recall@10 with and without them must be positive at 95%
confidence (one-sided, paired over the same people). On both simulated platforms a gain of +0.003 to +0.006
on the training holdout went with a loss of 0.013 to 0.021 on the evaluation's: noise, not signal.
That version serves: like the churn model, it never learnt from the period it was judged on, and the content
and popularity parts of the ranking read the events as they are.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from analytics.intelligence.recommendations.collaborative import (
    FACTORS,
    MIN_HOSTS,
    MIN_PEOPLE,
    HostFactors,
    host_factors_fit,
)
from analytics.intelligence.recommendations.holdout import K, holdout_read
from analytics.intelligence.recommendations.ranking import popularity
from analytics.intelligence.recommendations.tastes import LOOKBACK_DAYS, Taste
from analytics.intelligence.registry import NotEnoughData, Trained

HOLDOUT_DAYS = 30
MIN_HOLDOUT_PEOPLE = 30
MIN_CANDIDATES = 2 * K  # with fewer open listings than that, every ranking finds everything: no judgement
Z_ONE_SIDED = 1.645  # host factors are used when they raise recall@10 at 95% confidence (one-sided, paired)
FEATURES = ("category", "city", "price band", "time of week", "host", "popularity", "host factors")


def paired_gain(with_: list[float], without: list[float]) -> tuple[float, float]:
    """(mean of the per-person differences, its standard error): the same people ranked two ways."""
    n = len(with_)
    if n < 2:
        return 0.0, 0.0
    diffs = [a - b for a, b in zip(with_, without, strict=True)]
    mean = sum(diffs) / n
    variance = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    return mean, math.sqrt(variance / n)


def factors_help(with_: list[float], without: list[float]) -> tuple[bool, float, float]:
    """Whether the host factors raise recall@10 at 95% confidence (one-sided, paired); with the gain and its
    standard error."""
    gain, se = paired_gain(with_, without)
    return gain > Z_ONE_SIDED * se, gain, se


class RecommendationSpec:
    name = "recommendations"
    minimum_data = (
        f"{MIN_PEOPLE} people and {MIN_HOSTS} hosts with listing interactions before the holdout ({HOLDOUT_DAYS} "
        f"days before now), {MIN_CANDIDATES} listings open at the holdout's start and {MIN_HOLDOUT_PEOPLE} people "
        "who asked to join one of them"
    )

    def train(self, *, as_of: datetime) -> Trained:
        cutoff = as_of - timedelta(days=HOLDOUT_DAYS)
        factors = host_factors_fit(now=cutoff)
        if factors is None:
            raise NotEnoughData(
                self.name,
                needed=f"{MIN_PEOPLE} people and {MIN_HOSTS} hosts with interactions before the holdout",
                found="fewer",
            )
        holdout = holdout_read(cutoff=cutoff, end=as_of)
        if len(holdout.candidates) < MIN_CANDIDATES:
            raise NotEnoughData(
                self.name,
                needed=f"{MIN_CANDIDATES} listings open at the holdout's start",
                found=str(len(holdout.candidates)),
            )
        if len(holdout.users) < MIN_HOLDOUT_PEOPLE:
            raise NotEnoughData(
                self.name,
                needed=f"{MIN_HOLDOUT_PEOPLE} people who asked to join a listing open at the holdout's start",
                found=str(len(holdout.users)),
            )
        scores = holdout.score(holdout.hybrid(factors))
        without = holdout.score(holdout.hybrid(None))
        with_factors = scores.mean_recall
        helps, gain, gain_se = factors_help(scores.recall, without.recall)
        if not helps:
            factors, scores = replace(factors, weight=0.0), without
        by_popularity = sorted(holdout.candidates, key=lambda c: (-popularity(c), c.starts_at, c.listing_id))

        def popular(taste: Taste) -> list[str]:
            return [c.listing_id for c in by_popularity if c.listing_id not in taste.requested]

        baseline = holdout.score(popular)

        def evaluate_other(estimator: object) -> float | None:
            if not isinstance(estimator, HostFactors):
                return None
            return holdout.score(holdout.hybrid(estimator)).mean_recall

        evaluation: dict[str, Any] = {
            f"recall_at_{K}": scores.mean_recall,
            f"ndcg_at_{K}": scores.mean_ndcg,
            f"popularity_recall_at_{K}": baseline.mean_recall,
            f"recall_at_{K}_with_host_factors": with_factors,
            f"recall_at_{K}_without_host_factors": without.mean_recall,
            "host_factors_gain": gain,
            "host_factors_gain_se": gain_se,
            "host_factors_used": factors.weight > 0,
            "people": len(holdout.users),
            "candidates": len(holdout.candidates),
            "hosts": len(factors.hosts),
            "label": f"asked to join a listing open at the holdout's start, in the {HOLDOUT_DAYS} days after it",
        }
        return Trained(
            estimator=factors,
            algorithm=f"hybrid ranking with host factors (implicit ALS, {FACTORS} factors)",
            features=FEATURES,
            training_rows=factors.people,
            training_start=cutoff - timedelta(days=LOOKBACK_DAYS),
            training_end=cutoff,
            evaluated_on=cutoff,
            evaluation=evaluation,
            primary_metric=f"recall_at_{K}",
            evaluate_other=evaluate_other,
        )


RECOMMENDATIONS = RecommendationSpec()
