"""Subject-request shapes (docs/api.md, "Privacy")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ConsentOut(BaseModel):
    user_id: str
    analytics_opt_out: bool = Field(description="true: the user's events are dropped at the door and never forwarded")
    changed: bool = Field(description="false when the user was already in this state (the call is idempotent)")
    updated_at: datetime = Field(description="when the user's consent last changed")


class PersonExportOut(BaseModel):
    user_id: str
    generated_at: datetime
    anonymous_ids: list[str] = Field(
        description="the anonymous ids linked to the user (identify), whose rows are included"
    )
    tables: dict[str, list[dict[str, Any]]] = Field(
        description="every table that holds personal data (analytics/privacy/registry.py) → the person's rows, "
        "column → value; a table with none is an empty list"
    )


class ErasureOut(BaseModel):
    user_id: str
    erased: dict[str, int] = Field(
        description="every erasable table → the person's rows deleted from it; all 0 when nothing was left"
    )
    posthog_deletion: Literal["requested", "not_configured", "nothing_erased"] = Field(
        description="requested: PostHog is asked to delete the person's persons and events (retried until it "
        "accepts); not_configured: POSTHOG_PERSONAL_API_KEY or POSTHOG_PROJECT_ID is unset, so anything already "
        "forwarded must be deleted in PostHog by hand; nothing_erased: nothing was left to erase"
    )
