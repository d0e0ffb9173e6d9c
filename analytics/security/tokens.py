"""JWT bearer tokens for the read API, verified per RFC 8725.

One algorithm is allowed (the configured HS256 or RS256); `exp`, `iat`, `aud`, `iss`, `sub` and
`role` are required; the header's `kid` must name the configured key.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from django.conf import settings

from analytics import clock
from analytics.errors import Unauthenticated, ValidationFailed
from analytics.security.roles import Principal, Role

REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "sub", "role"]


def token_issue(*, role: str, sub: str, host_id: str | None = None, ttl_minutes: int | None = None) -> str:
    """A signed token for `sub` acting as `role` (a host needs `host_id`)."""
    try:
        parsed_role = Role(role)
    except ValueError as exc:
        raise ValidationFailed(f"unknown role {role!r}; use admin, analyst or host") from exc
    if parsed_role == Role.HOST and not host_id:
        raise ValidationFailed("a host token needs --host-id")
    if not settings.JWT_SIGNING_KEY:
        raise ValidationFailed("no signing key configured (JWT_SECRET_KEY or JWT_PRIVATE_KEY)")
    ttl = ttl_minutes if ttl_minutes is not None else settings.JWT_DEFAULT_TTL_MINUTES
    if ttl < 1:
        raise ValidationFailed("--ttl-minutes must be at least 1")
    now = clock.now()
    claims: dict[str, object] = {
        "sub": sub,
        "role": parsed_role.value,
        "aud": settings.JWT_AUDIENCE,
        "iss": settings.JWT_ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if host_id:
        claims["host_id"] = str(host_id)
    return jwt.encode(
        claims, settings.JWT_SIGNING_KEY, algorithm=settings.JWT_ALGORITHM, headers={"kid": settings.JWT_KEY_ID}
    )


def token_verify(token: str) -> Principal:
    """The principal of a valid token, or `Unauthenticated` with the reason."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the bearer token is not a JWT", code="invalid_token") from exc
    if header.get("alg") != settings.JWT_ALGORITHM:
        raise Unauthenticated("the token's algorithm is not allowed", code="invalid_token")
    if header.get("kid") != settings.JWT_KEY_ID:
        raise Unauthenticated("the token's key id is unknown", code="invalid_token")
    try:
        claims = jwt.decode(
            token,
            settings.JWT_VERIFYING_KEY,
            algorithms=[settings.JWT_ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            options={"require": REQUIRED_CLAIMS},
            leeway=30,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the token has expired", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"the token is invalid: {exc}", code="invalid_token") from exc
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise Unauthenticated("the token's role is unknown", code="invalid_token") from exc
    host_id = claims.get("host_id")
    if role == Role.HOST and not host_id:
        raise Unauthenticated("a host token must carry host_id", code="invalid_token")
    return Principal(subject=str(claims["sub"]), role=role, host_id=str(host_id) if host_id else None)
