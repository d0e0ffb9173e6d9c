"""The PostgreSQL connection pool across `fork()`.

Django keeps one psycopg pool per database alias for the whole process (`DatabaseWrapper._connection_pools`).
A child forked after the pool opened (a Celery prefork child, uvicorn's or gunicorn's workers when the
parent touched the database) inherits the pool object, but not its worker threads, and its connections'
sockets are shared with the parent: a query from both sides would interleave on one socket. In the child
the inherited pools are set aside (never closed: closing would end the parent's sessions on the server,
and a collected connection would do the same from its finaliser) and a fresh pool opens on first use.
"""

from __future__ import annotations

import os
from typing import Any

_inherited: list[Any] = []  # the parent's pools, kept referenced so that they are never finalised here
_registered = False


def _forget_inherited_pools() -> None:
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except Exception:
        return
    pools: dict[str, Any] = getattr(DatabaseWrapper, "_connection_pools")  # noqa: B009  (Django's private map)
    _inherited.extend(pools.values())
    pools.clear()
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.vendor == "postgresql" and connection.settings_dict.get("OPTIONS", {}).get("pool"):
            connection.connection = None  # a connection lent to the parent's thread is not ours to return


def pool_fork_safety_register() -> None:
    """Once per process: children forked from now on start with no pool."""
    global _registered
    if not _registered:
        os.register_at_fork(after_in_child=_forget_inherited_pools)
        _registered = True
