"""A generation: an unknown kind is refused before anything runs, and one generator that breaks is reported
while the others' findings still land."""

from __future__ import annotations

from datetime import datetime

import pytest

from analytics.errors import ValidationFailed
from analytics.intelligence.insights import service
from analytics.intelligence.insights.drafts import Findings, InsightDraft
from analytics.intelligence.insights.store import insights_store
from analytics.models import AIInsight


@pytest.mark.django_db
def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValidationFailed) as refused:
        service.insights_generate(insight_types=["anomaly", "astrology"])
    assert refused.value.code == "invalid_insight_type"
    assert refused.value.details == {"unknown": ["astrology"], "known": list(service.INSIGHT_TYPES)}
    assert not AIInsight.objects.exists()


@pytest.mark.django_db
def test_a_broken_generator_is_reported_and_the_others_land(
    frozen_now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(now: datetime) -> Findings:
        raise RuntimeError("the detector's table is gone")

    def one_market(now: datetime) -> Findings:
        draft = InsightDraft(
            "demand_supply", "demand_supply:comedy:Pune", "Comedy in Pune", "…", 0.9, "high", [], "platform", {}
        )
        return Findings(drafts=[draft])

    earlier = InsightDraft(
        "anomaly", "anomaly:api_error_rate:2026-03-09", "Errors rose", "…", 0.9, "high", [], "platform", {}
    )
    insights_store(generated_types=["anomaly"], drafts=[earlier], narratives={}, now=frozen_now)
    monkeypatch.setitem(service.GENERATORS, "anomaly", broken)
    monkeypatch.setitem(service.GENERATORS, "demand_supply", one_market)
    result = service.insights_generate(insight_types=["anomaly", "demand_supply"])
    assert result.failed == {"anomaly": "RuntimeError: the detector's table is gone"}
    assert (result.created, result.by_type) == (1, {"demand_supply": 1})
    assert set(AIInsight.objects.filter(current=True).values_list("dedup_key", flat=True)) == {
        "anomaly:api_error_rate:2026-03-09",  # its generator failed: what it found before stays as it was
        "demand_supply:comedy:Pune",
    }
