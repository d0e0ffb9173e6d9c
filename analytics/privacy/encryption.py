"""Encryption at rest of the free text people write (docs/operations.md, "Encryption at rest").

What is encrypted: the sensitive properties of `SENSITIVE_PROPERTIES` — the text of a review
(`review_submitted.text`) and of app feedback (`feedback_submitted.text`). The envelope encrypts them after
scrubbing, before anything is stored; the stored property is `enc:v1:` followed by a Fernet token
(AES-128-CBC with HMAC-SHA256, from `cryptography`). Readers that need the words decrypt them here: the
sentiment step of processing, the dashboard's reviews, the event export and the subject export. PostHog
receives them only when `POSTHOG_FORWARD_SENSITIVE_TEXT` is on (decrypted then); otherwise the property is
left out of what is forwarded.

Keys come from `FIELD_ENCRYPTION_KEYS` (comma-separated Fernet keys, newest first): the newest encrypts,
every configured one decrypts (`MultiFernet`), so a new key is added in front, `python manage.py
rotate_keys` re-encrypts every stored text with it, and the old key is removed afterwards. Without the
setting, one key is derived from `SECRET_KEY` (HKDF-SHA256), so development and the demo encrypt too — a
production deployment sets its own keys (changing `SECRET_KEY` would otherwise make the texts unreadable).

No encrypted field needs an exact lookup today (nobody looks reviews up by their exact text), so no blind
index is stored beside the ciphertext; a field that needs one would store a keyed HMAC of its value.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc:v1:"
# (event name, property) whose value is a person's own words: encrypted at rest.
SENSITIVE_PROPERTIES: frozenset[tuple[str, str]] = frozenset(
    {("review_submitted", "text"), ("feedback_submitted", "text")}
)
SENSITIVE_EVENTS = frozenset(name for name, _ in SENSITIVE_PROPERTIES)


class UndecryptableText(Exception):
    """A stored token that no configured key opens (a key removed too early, or a damaged row)."""


@dataclass(frozen=True)
class _Keys:
    all: MultiFernet
    newest: Fernet


def _derived_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"loopin-analytics field encryption")
    return base64.urlsafe_b64encode(derived.derive(secret.encode()))


@lru_cache(maxsize=4)
def _keys_of(configured: str, secret: str) -> _Keys:
    raw = [key.strip() for key in configured.split(",") if key.strip()] or [_derived_key(secret).decode()]
    try:
        fernets = [Fernet(key.encode()) for key in raw]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from exc
    return _Keys(all=MultiFernet(fernets), newest=fernets[0])


def _keys() -> _Keys:
    return _keys_of(settings.FIELD_ENCRYPTION_KEYS, settings.SECRET_KEY)


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def text_encrypt(text: str) -> str:
    return PREFIX + _keys().all.encrypt(text.encode("utf-8")).decode("ascii")


def text_decrypt(value: str) -> str:
    """The plain text of a stored value (a value that is not encrypted is returned as it is)."""
    if not is_encrypted(value):
        return value
    try:
        return _keys().all.decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise UndecryptableText("no configured key opens this text") from exc


def text_rotate(value: str) -> str | None:
    """The value re-encrypted with the newest key, or None when it already is (or is not encrypted)."""
    if not is_encrypted(value):
        return None
    try:
        token = value[len(PREFIX) :].encode("ascii")
    except UnicodeError as exc:  # not one of ours: a token is ASCII
        raise UndecryptableText("not a Fernet token") from exc
    keys = _keys()
    try:
        keys.newest.decrypt(token)
        return None  # already under the newest key: a resumed rotation skips it
    except InvalidToken:
        pass
    try:
        return PREFIX + keys.all.rotate(token).decode("ascii")
    except InvalidToken as exc:
        raise UndecryptableText("no configured key opens this text") from exc


def properties_encrypt(event_name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """`properties` with the event's sensitive values encrypted (in place; returned for convenience)."""
    if event_name in SENSITIVE_EVENTS:
        for name, key in SENSITIVE_PROPERTIES:
            value = properties.get(key)
            # Whatever it looks like: a client's text that happens to start with the prefix is still its text.
            if name == event_name and isinstance(value, str):
                properties[key] = text_encrypt(value)
    return properties


def properties_decrypt(properties: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of stored properties with every encrypted value in clear (for a reader that needs the words);
    a value no key opens becomes None."""
    out = dict(properties or {})
    for key, value in out.items():
        if is_encrypted(value):
            try:
                out[key] = text_decrypt(value)
            except UndecryptableText:
                out[key] = None
    return out


@dataclass(frozen=True)
class Rotation:
    rotated: int  # texts re-encrypted with the newest key
    current: int  # already under the newest key (a resumed run skips them)
    undecryptable: int  # no configured key opens them: left as they are, reported


def encrypted_texts_rotate(*, batch_size: int = 1000) -> Rotation:
    """Re-encrypt every stored sensitive text with the newest key, in batches of `batch_size` events (each
    batch one transaction, so a stopped run keeps what it did and a new run resumes: texts already under the
    newest key are skipped)."""
    from django.db import transaction

    from analytics.models import UserEvent

    rotated = current = undecryptable = 0
    last_id = 0
    rows = UserEvent.objects.filter(event_name__in=SENSITIVE_EVENTS).order_by("id")
    while True:
        page = list(rows.filter(id__gt=last_id).values_list("id", "properties")[:batch_size])
        if not page:
            break
        last_id = page[-1][0]
        changed: list[UserEvent] = []
        for event_id, properties in page:
            new = dict(properties or {})
            for key, value in new.items():
                if not is_encrypted(value):
                    continue
                try:
                    fresh = text_rotate(value)
                except UndecryptableText:
                    undecryptable += 1
                    continue
                if fresh is None:
                    current += 1
                else:
                    new[key] = fresh
                    rotated += 1
            if new != (properties or {}):
                changed.append(UserEvent(id=event_id, properties=new))
        if changed:
            with transaction.atomic():
                UserEvent.objects.bulk_update(changed, ["properties"], batch_size=batch_size)
    return Rotation(rotated=rotated, current=current, undecryptable=undecryptable)


_PROPERTY_FIELDS = ("properties", "metadata")  # the envelope takes either name


def payload_encrypt(payload: object) -> object:
    """A refused event as the quarantine keeps it: its free text (`properties.text` or `metadata.text`,
    whatever the event's name) encrypted like a stored event's."""
    if not isinstance(payload, dict):
        return payload
    out = dict(payload)
    for field in _PROPERTY_FIELDS:
        properties = out.get(field)
        if isinstance(properties, dict) and isinstance(properties.get("text"), str):
            out[field] = {**properties, "text": text_encrypt(properties["text"])}
    return out


def payload_decrypt(payload: object) -> object:
    """A quarantined event as it was sent (scrubbed): for the quarantine's list and its replay."""
    if not isinstance(payload, dict):
        return payload
    out = dict(payload)
    for field in _PROPERTY_FIELDS:
        if isinstance(out.get(field), dict):
            out[field] = properties_decrypt(out[field])
    return out
