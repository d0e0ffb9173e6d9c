"""Dependencies: who may call a route. Every route declares exactly one access policy.

- `Public`: anyone (health, docs);
- `WriteKey`: an ingestion write key (`X-API-Key: <key>` or `Authorization: Bearer <key>`);
- `require_roles(...)`: a JWT bearer token with one of the roles (docs/design.md, "Access and scoping").
`tests/unit/api/test_route_access.py` walks the OpenAPI schema and fails when a route is missing
from the role table or lets in a caller the table does not allow.

The credentials are read through FastAPI's security classes, so the OpenAPI schema declares them
(`bearerToken`, `writeKey`): Swagger UI offers "Authorize", and a generated client or fuzzer knows which
routes need which credential. None of them refuses by itself (`auto_error=False`): a missing credential
is refused here, in the API's error shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from analytics.api.boundary import run_db
from analytics.errors import Forbidden, Unauthenticated
from analytics.models import ApiKey
from analytics.security.api_keys import api_key_authenticate
from analytics.security.roles import Principal, Role
from analytics.security.tokens import token_verify

_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    bearerFormat="JWT",
    description="A token from `manage.py issue_token` (reads), or a write key (ingestion).",
)
_WRITE_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="writeKey", description="An ingestion write key."
)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)]


def _bearer(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is None or not credentials.credentials.strip():
        return None
    return credentials.credentials.strip()


async def public_access() -> None:
    """Anyone may call this route."""


async def write_key_access(bearer: Bearer, key: Annotated[str | None, Security(_WRITE_KEY)] = None) -> ApiKey:
    return await run_db(api_key_authenticate, key or _bearer(bearer))


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def role_access(request: Request, bearer: Bearer) -> Principal:
        token = _bearer(bearer)
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
