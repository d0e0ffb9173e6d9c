"""Roles and the principal a request acts as (docs/design.md, "Access and scoping")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    HOST = "host"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, role and (for hosts) host id."""

    subject: str
    role: Role
    host_id: str | None = None

    def may_see_host(self, host_id: str) -> bool:
        """Admins and analysts see any host; a host only itself."""
        return self.role in (Role.ADMIN, Role.ANALYST) or (self.role == Role.HOST and self.host_id == host_id)
