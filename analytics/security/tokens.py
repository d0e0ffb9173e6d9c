"""JWT bearer tokens for the read API, verified per RFC 8725.

Tokens are signed with the configured key (`JWT_ALGORITHM`, `JWT_KEY_ID` in the header). A token is
verified with the key its `kid` names (the signing key or one of `JWT_KEYS`), with that key's one
algorithm; `exp`, `iat`, `aud`, `iss`, `sub` and `role` are required, `exp` with a small leeway
(`JWT_LEEWAY_SECONDS`). docs/operations.md, "Tokens and keys".
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from django.conf import settings

from analytics import clock
from analytics.errors import Unauthenticated, ValidationFailed
from analytics.security.jwt_keys import JwtKey
from analytics.security.roles import Principal, Role

REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "sub", "role"]


MAX_TTL_MINUTES = 60 * 24 * 30  # also the largest JWT_DEFAULT_TTL_MINUTES


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
    if ttl > MAX_TTL_MINUTES:  # a bearer token cannot be revoked one by one: its lifetime is the exposure
        raise ValidationFailed(f"--ttl-minutes is at most {MAX_TTL_MINUTES} (30 days)")
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


def verification_keys() -> dict[str, JwtKey]:
    """Every key a token may be verified with, by key id: the signing key's and `JWT_KEYS`'."""
    keys: dict[str, JwtKey] = dict(settings.JWT_KEYS)
    keys[settings.JWT_KEY_ID] = JwtKey(alg=settings.JWT_ALGORITHM, key=settings.JWT_VERIFYING_KEY)
    return keys


def _refused(message: str, reason: str, *, code: str = "invalid_token") -> Unauthenticated:
    return Unauthenticated(message, code=code, details={"reason": reason})


def token_verify(token: str) -> Principal:
    """The principal of a valid token, or `Unauthenticated` with the reason (`details.reason`).

    The key is chosen by the header's `kid`; the algorithm is that key's own, never the header's.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _refused("the bearer token is not a JWT", "malformed") from exc
    kid = header.get("kid")
    key = verification_keys().get(kid) if isinstance(kid, str) else None
    if key is None:
        raise _refused("the token's key id is unknown", "unknown_key")
    if header.get("alg") != key.alg:
        raise _refused("the token's algorithm is not its key's algorithm", "algorithm_not_allowed")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.alg],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            leeway=settings.JWT_LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise _refused("the token has expired", "expired", code="token_expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise _refused("the token's signature does not match", "signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _refused(f"the token is invalid: {exc}", "missing_claim") from exc
    except jwt.InvalidAudienceError as exc:
        raise _refused(f"the token is invalid: {exc}", "audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise _refused(f"the token is invalid: {exc}", "issuer") from exc
    except jwt.PyJWTError as exc:
        raise _refused(f"the token is invalid: {exc}", "invalid") from exc
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise _refused("the token's role is unknown", "role") from exc
    host_id = claims.get("host_id")
    if role == Role.HOST and not host_id:
        raise _refused("a host token must carry host_id", "role")
    return Principal(subject=str(claims["sub"]), role=role, host_id=str(host_id) if host_id else None)
