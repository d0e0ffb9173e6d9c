"""Subject requests (admin): a person's export, erasure, opt-out and opt-in (docs/api.md, "Privacy")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.privacy import ConsentOut, ErasureOut, PersonExportOut
from analytics.errors import ValidationFailed
from analytics.privacy.consent import consent_set
from analytics.privacy.subject import person_erase, person_export

router = APIRouter(prefix=f"{API_PREFIX}/privacy/users", tags=["privacy"])

UserId = Annotated[str, Path(min_length=1, max_length=128, description="the platform's user id")]


def _user_id(value: str) -> str:
    user_id = value.strip()
    if not user_id:
        raise ValidationFailed("user_id is 1-128 characters", code="invalid_user_id")
    return user_id


async def _set(user_id: str, principal: AdminOnly, *, opted_out: bool) -> ConsentOut:
    consent = await run_db(
        consent_set, _user_id(user_id), opted_out=opted_out, actor=principal.subject, actor_role=principal.role.value
    )
    return ConsentOut(
        user_id=consent.user_id,
        analytics_opt_out=consent.analytics_opt_out,
        changed=consent.changed,
        updated_at=consent.updated_at,
    )


@router.post("/{user_id}/opt-out", response_model=ConsentOut, summary="Opt a user out of analytics (admin)")
async def opt_out(user_id: UserId, principal: AdminOnly) -> ConsentOut:
    """From now on the user's events are dropped at the door by every collection path and nothing queued
    for them is forwarded to PostHog. Idempotent; audit-logged."""
    return await _set(user_id, principal, opted_out=True)


@router.post("/{user_id}/opt-in", response_model=ConsentOut, summary="Opt a user back in (admin)")
async def opt_in(user_id: UserId, principal: AdminOnly) -> ConsentOut:
    """Events sent from now on are stored again; nothing dropped while opted out comes back. Idempotent;
    audit-logged."""
    return await _set(user_id, principal, opted_out=False)


@router.get("/{user_id}/export", response_model=PersonExportOut, summary="Export everything about a user (admin)")
async def export(user_id: UserId, principal: AdminOnly) -> PersonExportOut:
    """Every record about the user — and the anonymous ids linked to them — from every table that holds
    personal data, machine-readable. A user with nothing stored gets every table empty. Audit-logged."""
    data = await run_db(person_export, _user_id(user_id), actor=principal.subject, actor_role=principal.role.value)
    return PersonExportOut.model_validate(data)


@router.delete("/{user_id}", response_model=ErasureOut, summary="Erase everything about a user (admin)")
async def erase(user_id: UserId, principal: AdminOnly) -> ErasureOut:
    """Deletes every record about the user — their anonymous history included — from every table that
    holds personal data, synchronously and in one transaction; events waiting to be forwarded are dropped
    with them. Aggregates that name nobody stay. When PostHog deletion is configured, PostHog is asked to
    delete the person's persons and events once the erasure commits (retried until it accepts).
    Idempotent: a second call erases nothing and says so. Audit-logged without the person's id."""
    erased = await run_db(person_erase, _user_id(user_id), actor=principal.subject, actor_role=principal.role.value)
    return ErasureOut(user_id=user_id.strip(), erased=erased.tables, posthog_deletion=erased.posthog_deletion)
