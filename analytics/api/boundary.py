"""The one boundary between async FastAPI and the sync Django ORM.

Every ORM call from the API goes through `run_db`: it runs in the thread pool, closes stale
connections before and after (back to the pool on PostgreSQL), and turns a database outage into
`Unavailable` (503 with Retry-After) instead of a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from django.db import DataError, InterfaceError, OperationalError, close_old_connections
from starlette.concurrency import run_in_threadpool

from analytics.errors import Unavailable, ValidationFailed

P = ParamSpec("P")
T = TypeVar("T")

RETRY_AFTER_SECONDS = 5
# How SQLite (and PostgreSQL) say that a write could not reach the disk: no space (ENOSPC), a file-size limit
# (EFBIG, reported by SQLite as an I/O error), a failing device.
STORAGE_FAILURES = ("database or disk is full", "disk I/O error", "No space left on device", "could not extend file")


def _call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    except DataError as exc:
        # PostgreSQL refuses NUL in text; SQLite stores it. A NUL in a parameter is the caller's mistake
        # (a 422 naming it), never a 500 — on either database.
        if "NUL" in str(exc) or "unsupported Unicode escape sequence" in str(exc):  # text, or jsonb's \u0000
            raise ValidationFailed(
                "text parameters may not contain NUL (0x00) characters", code="nul_character"
            ) from exc
        raise
    except (OperationalError, InterfaceError) as exc:
        if any(sign in str(exc) for sign in STORAGE_FAILURES):
            raise Unavailable(
                "the analytics database cannot write: its disk is full or failing; nothing of this request was "
                "stored — retry later",
                retry_after=RETRY_AFTER_SECONDS,
                code="storage_unavailable",
            ) from exc
        raise Unavailable(
            "the analytics database is unavailable; retry later",
            retry_after=RETRY_AFTER_SECONDS,
            code="database_unavailable",
        ) from exc
    finally:
        close_old_connections()


async def run_db(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` (ORM work) in the thread pool, safely."""
    return await run_in_threadpool(partial(_call, fn, *args, **kwargs))
