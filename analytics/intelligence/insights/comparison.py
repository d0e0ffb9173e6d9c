"""The one comparison of listing groups the insights make: mean fill of a group against the rest (Welch)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from analytics.intelligence.insights.listings_frame import PastListing


@dataclass(frozen=True)
class FillGap:
    group_size: int
    rest_size: int
    group_fill: float
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


def fill_gap(group: Sequence[PastListing], rest: Sequence[PastListing]) -> FillGap | None:
    """None when either side is empty."""
    if not group or not rest:
        return None
    g_mean, g_var = _moments([x.fill for x in group])
    r_mean, r_var = _moments([x.fill for x in rest])
    se = math.sqrt(g_var / len(group) + r_var / len(rest))
    z = (g_mean - r_mean) / se if se > 0 else 0.0
    return FillGap(len(group), len(rest), g_mean, r_mean, z)
