"""Insight generation: every generator run on the data as it is now, and their findings stored.

Run by the task `generate_predictive_insights` (every 6 hours, queue `intelligence`) and by
`POST /api/analytics/insights/generate`. A generator that fails is reported and leaves its stored insights
as they were; the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analytics import clock
from analytics.errors import ValidationFailed
from analytics.intelligence.insights.anomalies import anomaly_insights
from analytics.intelligence.insights.churn_cohorts import churn_cohorts
from analytics.intelligence.insights.demand import demand_supply
from analytics.intelligence.insights.drafts import Findings, InsightDraft, NotEnoughData
from analytics.intelligence.insights.hosts import host_findings
from analytics.intelligence.insights.listings import listing_outlook
from analytics.intelligence.insights.narrative import narratives_write
from analytics.intelligence.insights.revenue import revenue_outlook
from analytics.intelligence.insights.store import insights_store

logger = logging.getLogger("analytics.insights")

GENERATORS: dict[str, Callable[[datetime], Findings]] = {
    "churn_risk_cohort": churn_cohorts,
    "anomaly": anomaly_insights,
    "revenue_outlook": revenue_outlook,
    "demand_supply": demand_supply,
    "host_optimisation": host_findings,
    "listing_outlook": listing_outlook,
}
INSIGHT_TYPES: tuple[str, ...] = tuple(GENERATORS)
MAX_NOT_ENOUGH_LISTED = 50


@dataclass
class Generation:
    created: int = 0
    refreshed: int = 0
    quiet: int = 0
    retired: int = 0
    by_type: dict[str, int] = field(default_factory=dict)  # findings per type
    failed: dict[str, str] = field(default_factory=dict)  # type → error
    not_enough_data: list[NotEnoughData] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "refreshed": self.refreshed,
            "quiet": self.quiet,
            "retired": self.retired,
            "findings": self.by_type,
            "failed": self.failed,
            "not_enough_data_count": len(self.not_enough_data),
            "not_enough_data": [n.as_dict() for n in self.not_enough_data[:MAX_NOT_ENOUGH_LISTED]],
        }


def insight_types_check(types: Sequence[str] | None) -> tuple[str, ...]:
    if not types:
        return INSIGHT_TYPES
    unknown = sorted(set(types) - set(INSIGHT_TYPES))
    if unknown:
        raise ValidationFailed(
            f"unknown insight types {', '.join(unknown)}; known: {', '.join(INSIGHT_TYPES)}",
            code="invalid_insight_type",
            details={"unknown": unknown, "known": list(INSIGHT_TYPES)},
        )
    return tuple(dict.fromkeys(types))


def insights_generate(*, insight_types: Sequence[str] | None = None, as_of: datetime | None = None) -> Generation:
    """Run the generators of `insight_types` (default all) on the data now and store what they find."""
    types = insight_types_check(insight_types)
    now = as_of or clock.now()
    result = Generation()
    drafts: list[InsightDraft] = []
    ran: list[str] = []
    for name in types:
        try:
            findings = GENERATORS[name](now)
        except Exception as error:  # one broken generator must not keep the others' insights from landing
            logger.exception("insights.generator_failed type=%s", name)
            result.failed[name] = f"{type(error).__name__}: {error}"[:300]
            continue
        ran.append(name)
        drafts.extend(findings.drafts)
        result.by_type[name] = len(findings.drafts)
        result.not_enough_data.extend(findings.not_enough_data)
    stored = insights_store(generated_types=ran, drafts=drafts, narratives=narratives_write(drafts), now=now)
    result.created, result.refreshed, result.quiet, result.retired = (
        stored.created,
        stored.refreshed,
        stored.quiet,
        stored.retired,
    )
    logger.info(
        "insights.generated created=%d refreshed=%d retired=%d failed=%d",
        result.created,
        result.refreshed,
        result.retired,
        len(result.failed),
    )
    return result
