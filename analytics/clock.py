"""The one place that says what time it is, so tests can freeze it."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """Timezone-aware UTC now (or the frozen instant in tests)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(instant: datetime | None) -> None:
    """Freeze `now()` at `instant` (aware), or unfreeze with None."""
    global _frozen
    if instant is not None and instant.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen = instant
