"""The insight store: a finding found again refreshes its open insight and keeps the status a person set; a
finding dismissed lately stays quiet; one no longer found leaves the default list; status moves follow
pending → validated | dismissed, validated → done, anything else 409, each audit-logged."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from analytics import clock
from analytics.errors import Conflict, NotFound
from analytics.intelligence.insights.drafts import InsightDraft
from analytics.intelligence.insights.store import (
    InsightQuery,
    insight_list,
    insight_status_set,
    insights_store,
    top_insights,
)
from analytics.models import AIInsight, AuditLog
from analytics.security.roles import Principal, Role

ADMIN = Principal("admin-1", Role.ADMIN)
ANALYST = Principal("analyst-1", Role.ANALYST)


def draft(key: str, *, priority: str = "medium", confidence: float = 0.8, **overrides: object) -> InsightDraft:
    fields: dict[str, object] = {
        "insight_type": "demand_supply",
        "dedup_key": key,
        "title": f"finding {key}",
        "description": f"what {key} says",
        "confidence": confidence,
        "priority": priority,
        "suggested_actions": ["do a thing"],
        "target_type": "platform",
        "evidence": {"listings": 5},
        "model_name": "demand_supply",
        **overrides,
    }
    return InsightDraft(**fields)  # type: ignore[arg-type]


def store(*drafts: InsightDraft, types: tuple[str, ...] = ("demand_supply",)) -> object:
    return insights_store(generated_types=types, drafts=list(drafts), narratives={}, now=clock.now())


@pytest.mark.django_db
def test_a_finding_found_again_refreshes_its_insight_and_keeps_the_status_set(frozen_now: datetime) -> None:
    result = store(draft("a"), draft("b"))
    assert (result.created, result.refreshed) == (2, 0)  # type: ignore[attr-defined]
    a = AIInsight.objects.get(dedup_key="a")
    insight_status_set(insight_id=a.id, status="validated", actor="admin-1")
    clock.freeze(frozen_now + timedelta(hours=6))
    result = store(draft("a", title="finding a, bigger", confidence=0.9, evidence={"listings": 7}), draft("b"))
    assert (result.created, result.refreshed) == (0, 2)  # type: ignore[attr-defined]
    a.refresh_from_db()
    assert (a.status, a.title, a.confidence_score, a.evidence) == (
        "validated",
        "finding a, bigger",
        0.9,
        {"listings": 7},
    )
    assert a.created_at == frozen_now and a.refreshed_at == frozen_now + timedelta(hours=6)
    assert AIInsight.objects.count() == 2
    assert a.narrative == "what a says" and a.narrative_source == "template"


@pytest.mark.django_db
def test_a_dismissed_finding_stays_quiet_for_30_days_then_may_return(frozen_now: datetime) -> None:
    store(draft("a"))
    a = AIInsight.objects.get()
    insight_status_set(insight_id=a.id, status="dismissed", actor="admin-1")
    result = store(draft("a"))
    assert (result.created, result.quiet) == (0, 1)  # type: ignore[attr-defined]
    clock.freeze(frozen_now + timedelta(days=31))
    result = store(draft("a"))
    assert result.created == 1  # type: ignore[attr-defined]
    assert list(AIInsight.objects.order_by("id").values_list("status", flat=True)) == ["dismissed", "pending"]


@pytest.mark.django_db
def test_an_insight_no_longer_found_leaves_the_lists_but_other_types_are_untouched(frozen_now: datetime) -> None:
    store(draft("a"), draft("c", insight_type="anomaly"), types=("demand_supply", "anomaly"))
    result = store(draft("b"))  # only demand_supply generated this time
    assert result.retired == 1  # type: ignore[attr-defined]
    page = insight_list(caller=ADMIN, query=InsightQuery())
    assert sorted(i.dedup_key for i in page.insights) == ["b", "c"]
    stale = insight_list(caller=ADMIN, query=InsightQuery(include_stale=True))
    assert stale.total_count == 3
    assert [i["title"] for i in top_insights()] == ["finding b", "finding c"]  # same rank: newest first


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "last", "refused"),
    [
        (("validated", "done"), "done", ("pending", "validated", "dismissed", "done")),
        (("dismissed",), "dismissed", ("pending", "validated", "dismissed", "done")),
    ],
)
def test_status_moves_follow_the_workflow_and_every_other_move_is_409(
    frozen_now: datetime, path: tuple[str, ...], last: str, refused: tuple[str, ...]
) -> None:
    store(draft("a"))
    insight = AIInsight.objects.get()
    with pytest.raises(Conflict) as pending_to_done:
        insight_status_set(insight_id=insight.id, status="done", actor="admin-1")
    assert pending_to_done.value.code == "invalid_status_transition"
    for status in path:
        insight_status_set(insight_id=insight.id, status=status, actor="admin-1", actor_role="admin")
    insight.refresh_from_db()
    assert insight.status == last and insight.status_changed_by == "admin-1"
    for status in refused:
        with pytest.raises(Conflict):
            insight_status_set(insight_id=insight.id, status=status, actor="admin-1")
    audit = list(AuditLog.objects.filter(action="insight.status").order_by("id").values_list("details", flat=True))
    assert [d["to"] for d in audit] == list(path)
    with pytest.raises(NotFound):
        insight_status_set(insight_id=insight.id + 100, status="validated", actor="admin-1")


@pytest.mark.django_db
def test_lists_order_by_priority_filter_by_minimum_priority_and_hide_one_persons_insights_from_analysts(
    frozen_now: datetime,
) -> None:
    store(
        draft("low", priority="low"),
        draft("crit", priority="critical"),
        draft("high", priority="high", confidence=0.6),
        draft("high2", priority="high", confidence=0.9),
        draft("person", priority="critical", target_type="user", target_id="u-1"),
        draft("host", priority="critical", target_type="host", target_id="h-1", host_id="h-1"),
    )
    admin = insight_list(caller=ADMIN, query=InsightQuery(priority="high"))
    # priority, then confidence, then newest (same instant here: the later id first)
    assert [i.dedup_key for i in admin.insights] == ["host", "person", "crit", "high2", "high"]
    analyst = insight_list(caller=ANALYST, query=InsightQuery(priority="high", limit=2))
    assert analyst.total_count == 4 and analyst.has_more and "person" not in {i.dedup_key for i in analyst.insights}
    host = insight_list(caller=Principal("h", Role.HOST, host_id="h-1"), query=InsightQuery())
    assert [i.dedup_key for i in host.insights] == ["host"]
    assert [i["title"] for i in top_insights(limit=2)] == ["finding crit", "finding high2"]  # no host's, no person's
