"""Ingestion write keys: created once, stored only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from analytics import clock
from analytics.errors import NotFound, Unauthenticated
from analytics.models import ApiKey
from analytics.security.audit import audit_record

KEY_PREFIX = "lak_"
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    id: int
    name: str
    prefix: str
    key: str  # the only time the full key exists outside the client


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, name: str, actor: str = "cli") -> IssuedKey:
    """A new write key; the returned `key` is shown once and never stored."""
    if not name.strip():
        raise ValueError("a key needs a name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiKey.objects.create(
            name=name.strip()[:100], prefix=key[: len(KEY_PREFIX) + 8], key_hash=_hash(key), created_at=clock.now()
        )
        audit_record(
            actor=actor,
            action="api_key.create",
            target_type="api_key",
            target_id=str(row.id),
            details={"name": row.name, "prefix": row.prefix},
        )
    return IssuedKey(id=row.id, name=row.name, prefix=row.prefix, key=key)


def api_key_revoke(*, key_id: int | None = None, prefix: str | None = None, actor: str = "cli") -> ApiKey:
    """Revoke a key by id or by its printed prefix; revoked keys answer 401 from then on."""
    queryset = ApiKey.objects.filter(revoked_at__isnull=True)
    if key_id is not None:
        queryset = queryset.filter(id=key_id)
    elif prefix:
        queryset = queryset.filter(prefix=prefix)
    else:
        raise ValueError("give a key id or prefix")
    with transaction.atomic():
        row = queryset.select_for_update().first()
        if row is None:
            raise NotFound("no active key matches")
        row.revoked_at = clock.now()
        row.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_key.revoke",
            target_type="api_key",
            target_id=str(row.id),
            details={"name": row.name, "prefix": row.prefix},
        )
    return row


def api_key_authenticate(key: str | None) -> ApiKey:
    """The active key row for `key`, or `Unauthenticated` (missing, unknown or revoked)."""
    if not key:
        raise Unauthenticated("a write key is required (X-API-Key or Authorization: Bearer)", code="missing_api_key")
    row = ApiKey.objects.filter(key_hash=_hash(key)).first()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("the write key is unknown or revoked", code="invalid_api_key")
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(id=row.id).update(last_used_at=now)
    return row
