"""Dependencies: who may call a route. Every route declares exactly one access policy.

- `Public`: anyone (health, docs);
- `WriteKey`: an ingestion write key (`X-API-Key: <key>` or `Authorization: Bearer <key>`);
- `require_roles(...)`: a JWT bearer token with one of the roles (docs/design.md, "Access and scoping").
`tests/unit/api/test_route_access.py` walks the OpenAPI schema and fails when a route is missing
from the role table or lets in a caller the table does not allow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from analytics.api.boundary import run_db
from analytics.errors import Forbidden, Unauthenticated
from analytics.models import ApiKey
from analytics.security.api_keys import api_key_authenticate
from analytics.security.roles import Principal, Role
from analytics.security.tokens import token_verify


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def public_access() -> None:
    """Anyone may call this route."""


async def write_key_access(request: Request) -> ApiKey:
    key = request.headers.get("x-api-key") or _bearer(request)
    return await run_db(api_key_authenticate, key)


def require_roles(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def role_access(request: Request) -> Principal:
        token = _bearer(request)
        if token is None:
            raise Unauthenticated("a bearer token is required", code="missing_token")
        principal = token_verify(token)
        if principal.role not in allowed:
            raise Forbidden(f"the role '{principal.role}' may not use this endpoint", code="forbidden_role")
        request.state.principal = principal
        return principal

    return role_access


Public = Depends(public_access)
WriteKey = Annotated[ApiKey, Depends(write_key_access)]
AdminOrAnalyst = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.ANALYST))]
AdminOnly = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
# Hosts too: the route scopes through a selector that takes the caller (analytics/metrics/hosts.py).
HostScope = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.ANALYST, Role.HOST))]
