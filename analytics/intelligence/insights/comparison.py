"""The one comparison of listing groups the insights make: the mean of a per-listing figure (how full it
filled, what its seats brought) in a group against the rest (Welch), and the group that stands out."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS
from analytics.intelligence.insights.listings_frame import PastListing

Z95 = 1.96


@dataclass(frozen=True)
class FillGap:
    group_size: int
    rest_size: int
    group_fill: float  # the group's mean of the figure compared (fill unless said otherwise)
    rest_fill: float
    z: float

    @property
    def difference(self) -> float:
        return self.group_fill - self.rest_fill

    def as_dict(self) -> dict[str, float | int]:
        return {
            "group_size": self.group_size,
            "comparison_size": self.rest_size,
            "group_fill": round(self.group_fill, 3),
            "comparison_fill": round(self.rest_fill, 3),
            "difference": round(self.difference, 3),
            "z": round(self.z, 2),
        }


def _moments(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)
    return mean, variance


def value_gap(group: Sequence[float], rest: Sequence[float]) -> FillGap | None:
    """Mean of `group` against mean of `rest` with Welch's z; None when either side is empty."""
    if not group or not rest:
        return None
    g_mean, g_var = _moments(group)
    r_mean, r_var = _moments(rest)
    se = math.sqrt(g_var / len(group) + r_var / len(rest))
    z = (g_mean - r_mean) / se if se > 0 else 0.0
    return FillGap(len(group), len(rest), g_mean, r_mean, z)


def fill_gap(group: Sequence[PastListing], rest: Sequence[PastListing]) -> FillGap | None:
    """How full the group's listings filled against the rest's; None when either side is empty."""
    return value_gap([x.fill for x in group], [x.fill for x in rest])


def best_group(
    listings: Sequence[PastListing],
    key: Callable[[PastListing], Any],
    value: Callable[[PastListing], float] = lambda x: x.fill,
) -> tuple[Any, FillGap] | tuple[None, None]:
    """The value of `key` whose listings' `value` is highest against all the others', if it is higher at 95%
    confidence with at least MIN_OBSERVATIONS listings on each side."""
    groups: dict[Any, list[PastListing]] = defaultdict(list)
    for listing in listings:
        groups[key(listing)].append(listing)
    best: tuple[Any, FillGap] | tuple[None, None] = (None, None)
    for name, group in groups.items():
        if len(group) < MIN_OBSERVATIONS or len(listings) - len(group) < MIN_OBSERVATIONS:
            continue
        gap = value_gap([value(x) for x in group], [value(x) for x in listings if key(x) != name])
        if gap is not None and gap.z >= Z95 and (best[1] is None or gap.group_fill > best[1].group_fill):
            best = (name, gap)
    return best
