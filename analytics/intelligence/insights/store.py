"""The one write path for insights — a generation's findings and a person's status changes — and the reads.

A finding whose key has an open insight (pending or validated) refreshes it: figures, wording, confidence
and priority follow the data; the status a person set stays. A finding a person dismissed or marked done
within `CLOSED_QUIET_DAYS` is not raised again. Open insights of a generated type that the generation no
longer found lose `current`: they leave the default lists and the overview, and keep their history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from analytics import clock
from analytics.errors import Conflict, NotFound
from analytics.intelligence.insights.drafts import InsightDraft, clamp01
from analytics.models import AIInsight
from analytics.models.insights import OPEN_STATUSES, PRIORITY_RANK, InsightStatus
from analytics.security.audit import audit_record
from analytics.security.roles import Principal, Role

CLOSED_QUIET_DAYS = 30
TRANSITIONS: dict[str, tuple[str, ...]] = {
    InsightStatus.PENDING: (InsightStatus.VALIDATED, InsightStatus.DISMISSED),
    InsightStatus.VALIDATED: (InsightStatus.DONE,),
}
_REFRESHED = (
    "title",
    "description",
    "narrative",
    "narrative_source",
    "confidence_score",
    "priority",
    "priority_rank",
    "is_actionable",
    "suggested_actions",
    "evidence",
    "model_name",
    "model_version",
    "current",
    "refreshed_at",
)


@dataclass
class Stored:
    created: int = 0
    refreshed: int = 0
    quiet: int = 0  # found again, but a person closed it lately
    retired: int = 0  # open, of a generated type, no longer found


def _fill(row: AIInsight, draft: InsightDraft, now: datetime, narrative: tuple[str, str]) -> AIInsight:
    row.title = draft.title[:200]
    row.description = draft.description
    row.narrative, row.narrative_source = narrative
    row.confidence_score = clamp01(draft.confidence)
    row.priority = draft.priority
    row.priority_rank = PRIORITY_RANK[draft.priority]
    row.is_actionable = draft.is_actionable
    row.suggested_actions = list(draft.suggested_actions)
    row.evidence = draft.evidence
    row.model_name = draft.model_name
    row.model_version = draft.model_version
    row.current = True
    row.refreshed_at = now
    return row


def insights_store(
    *,
    generated_types: Iterable[str],
    drafts: Sequence[InsightDraft],
    narratives: dict[str, tuple[str, str]],
    now: datetime,
) -> Stored:
    """Write one generation's findings (all of `generated_types`, which may have found nothing)."""
    result = Stored()
    keys = [d.dedup_key for d in drafts]
    with transaction.atomic():
        open_rows = {
            row.dedup_key: row
            for row in AIInsight.objects.select_for_update().filter(dedup_key__in=keys, status__in=OPEN_STATUSES)
        }
        quiet = set(
            AIInsight.objects.filter(
                dedup_key__in=keys,
                status__in=(InsightStatus.DISMISSED, InsightStatus.DONE),
                status_changed_at__gte=now - timedelta(days=CLOSED_QUIET_DAYS),
            ).values_list("dedup_key", flat=True)
        )
        to_update, to_create = [], []
        for draft in drafts:
            narrative = narratives.get(draft.dedup_key, (draft.description, "template"))
            if draft.dedup_key in open_rows:
                to_update.append(_fill(open_rows[draft.dedup_key], draft, now, narrative))
            elif draft.dedup_key in quiet:
                result.quiet += 1
            else:
                row = AIInsight(
                    insight_type=draft.insight_type,
                    dedup_key=draft.dedup_key[:255],
                    target_type=draft.target_type,
                    target_id=draft.target_id[:128],
                    host_id=draft.host_id[:64],
                    status=InsightStatus.PENDING,
                    created_at=now,
                )
                to_create.append(_fill(row, draft, now, narrative))
        AIInsight.objects.bulk_update(to_update, _REFRESHED, batch_size=500)
        # A concurrent generation may have opened the same key meanwhile: the partial unique index keeps one.
        created = AIInsight.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)
        result.refreshed, result.created = len(to_update), len(created)
        result.retired = (
            AIInsight.objects.filter(insight_type__in=list(generated_types), status__in=OPEN_STATUSES, current=True)
            .exclude(dedup_key__in=keys)
            .update(current=False)
        )
    return result


# --- a person's status change ----------------------------------------------------------------------


def insight_status_set(*, insight_id: int, status: str, actor: str, actor_role: str = "") -> AIInsight:
    """pending → validated | dismissed; validated → done. 404 unknown id; 409 for any other move."""
    with transaction.atomic():
        try:
            insight = AIInsight.objects.select_for_update().get(id=insight_id)
        except AIInsight.DoesNotExist:
            raise NotFound(f"no insight with id {insight_id}", code="insight_not_found") from None
        allowed = TRANSITIONS.get(insight.status, ())
        if status not in allowed:
            raise Conflict(
                f"insight {insight_id} is {insight.status}; it can move to "
                + (" or ".join(allowed) if allowed else "nothing: it is closed"),
                code="invalid_status_transition",
                details={"status": insight.status, "requested": status, "allowed": list(allowed)},
            )
        previous = insight.status
        insight.status = status
        insight.status_changed_at = clock.now()
        insight.status_changed_by = actor[:128]
        insight.save(update_fields=["status", "status_changed_at", "status_changed_by"])
        audit_record(
            actor=actor,
            actor_role=actor_role,
            action="insight.status",
            target_type="insight",
            target_id=str(insight.id),
            details={"from": previous, "to": status},
        )
    return insight


# --- reads ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InsightQuery:
    insight_types: tuple[str, ...] = ()
    priority: str | None = None  # this priority or higher
    status: tuple[str, ...] = ()  # empty: the open ones (pending, validated)
    target_type: str | None = None
    include_stale: bool = False  # also those the newest generation no longer found
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class InsightPage:
    insights: list[AIInsight]
    total_count: int
    has_more: bool
    counts: dict[str, int] = field(default_factory=dict)


def visible_to(caller: Principal) -> QuerySet[AIInsight]:
    """What the caller may read: admins everything; analysts all but insights about one person; a host only
    insights about themselves (and their listings)."""
    rows = AIInsight.objects.all()
    if caller.role == Role.ADMIN:
        return rows
    if caller.role == Role.ANALYST:
        return rows.exclude(target_type="user")
    if caller.role != Role.HOST or not caller.host_id:
        return rows.none()
    return rows.filter(host_id=caller.host_id).exclude(target_type="user")


def insight_list(*, caller: Principal, query: InsightQuery, scope: Q | None = None) -> InsightPage:
    rows = visible_to(caller)
    if scope is not None:
        rows = rows.filter(scope)
    rows = rows.filter(status__in=query.status or OPEN_STATUSES)
    if not query.include_stale:
        rows = rows.filter(current=True)
    if query.insight_types:
        rows = rows.filter(insight_type__in=query.insight_types)
    if query.priority:
        rows = rows.filter(priority_rank__gte=PRIORITY_RANK[query.priority])
    if query.target_type:
        rows = rows.filter(target_type=query.target_type)
    total = rows.count()
    page = list(
        rows.order_by("-priority_rank", "-confidence_score", "-created_at", "-id")[
            query.offset : query.offset + query.limit
        ]
    )
    return InsightPage(page, total, query.offset + len(page) < total)


def insight_get(*, caller: Principal, insight_id: int) -> AIInsight:
    try:
        return visible_to(caller).get(id=insight_id)
    except AIInsight.DoesNotExist:
        raise NotFound(f"no insight with id {insight_id}", code="insight_not_found") from None


def insight_as_dict(row: AIInsight) -> dict[str, Any]:
    return {
        "id": row.id,
        "insight_type": row.insight_type,
        "title": row.title,
        "description": row.description,
        "narrative": row.narrative,
        "narrative_source": row.narrative_source,
        "confidence_score": row.confidence_score,
        "priority": row.priority,
        "is_actionable": row.is_actionable,
        "suggested_actions": row.suggested_actions,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "evidence": row.evidence,
        "model_name": row.model_name,
        "model_version": row.model_version,
        "status": row.status,
        "current": row.current,
        "created_at": row.created_at,
        "refreshed_at": row.refreshed_at,
        "status_changed_at": row.status_changed_at,
        "status_changed_by": row.status_changed_by,
    }


def top_insights(
    *, limit: int = 5, raised_from: datetime | None = None, raised_before: datetime | None = None
) -> list[dict[str, Any]]:
    """The highest-priority open insights about the platform (not about one host or person) that the newest
    generation still found — for the overview, and (first raised in a period) for the digests."""
    rows = AIInsight.objects.filter(status__in=OPEN_STATUSES, current=True, host_id="").exclude(target_type="user")
    if raised_from is not None:
        rows = rows.filter(created_at__gte=raised_from)
    if raised_before is not None:
        rows = rows.filter(created_at__lt=raised_before)
    ordered = rows.order_by("-priority_rank", "-confidence_score", "-created_at", "-id")[:limit]
    return [insight_as_dict(row) for row in ordered]
