"""What a generator hands the store: an `InsightDraft` (one finding with its evidence) or a `NotEnoughData`
(why a finding could not be judged), and the few rules every generator shares."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MIN_OBSERVATIONS = 30  # below this, a comparison says "not enough data" instead of a finding


@dataclass(frozen=True)
class InsightDraft:
    insight_type: str
    dedup_key: str  # the same finding found again refreshes the open insight instead of repeating it
    title: str
    description: str
    confidence: float  # 0–1
    priority: str  # low | medium | high | critical
    suggested_actions: list[str]
    target_type: str  # platform | host | listing | cohort | user
    evidence: dict[str, Any]  # the figures cited, the comparison group and its size
    target_id: str = ""
    host_id: str = ""  # the host it concerns (host scoping)
    model_name: str = ""
    model_version: str = ""
    is_actionable: bool = True


@dataclass(frozen=True)
class NotEnoughData:
    """A comparison that was not made: fewer than `threshold` observations."""

    insight_type: str
    subject: str  # what it would have been about ("platform", "host h-1", "music / Pune", …)
    observations: int
    threshold: int = MIN_OBSERVATIONS
    unit: str = "observations"

    @property
    def message(self) -> str:
        return f"not enough data: {self.observations} {self.unit}, at least {self.threshold} needed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "insight_type": self.insight_type,
            "subject": self.subject,
            "status": "not_enough_data",
            "observations": self.observations,
            "threshold": self.threshold,
            "message": self.message,
        }


@dataclass
class Findings:
    """One generator's output."""

    drafts: list[InsightDraft] = field(default_factory=list)
    not_enough_data: list[NotEnoughData] = field(default_factory=list)


def clamp01(value: float) -> float:
    return 0.0 if math.isnan(value) else max(0.0, min(1.0, value))


def z_confidence(z: float) -> float:
    """How sure a difference of `z` standard errors is real: 1 − the two-sided p-value, capped at 0.99."""
    return round(min(0.99, 1.0 - math.erfc(abs(z) / math.sqrt(2.0))), 3)


def proportion_gap(p1: float, n1: int, p2: float, n2: int) -> tuple[float, float]:
    """(difference p1 − p2, its standard error) of two proportions or mean probabilities."""
    se = math.sqrt(max(p1 * (1 - p1), 1e-9) / max(n1, 1) + max(p2 * (1 - p2), 1e-9) / max(n2, 1))
    return p1 - p2, se


def pct(value: float) -> str:
    """0.183 → "18%"."""
    return f"{100 * value:.0f}%"
