"""Subject-request shapes (docs/api.md, "Privacy")."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ConsentOut(BaseModel):
    user_id: str
    analytics_opt_out: bool = Field(description="true: the user's events are dropped at the door and never forwarded")
    changed: bool = Field(description="false when the user was already in this state (the call is idempotent)")
    updated_at: datetime = Field(description="when the user's consent last changed")
