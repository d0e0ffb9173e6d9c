"""The PostgreSQL connection pool (settings: `ANALYTICS_DB_POOL_SIZE`): requests reuse open connections,
a connection the server ended is never lent again, and a forked child never shares its parent's.

The outage tests (test_database_outage.py) run with the same pool: 503 + Retry-After while the database
is away, recovery without a restart."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx
import psycopg
from django.conf import settings
from django.db import connection

from analytics.models import UserEvent
from analytics.security.api_keys import api_key_create
from tests.integration.events import page_view
from tests.integration.proxy import TcpProxy

TRACK = "/api/analytics/events/track"
REQUESTS = 40


def _backends_behind(proxy: TcpProxy, test_database: dict[str, str]) -> list[int]:
    """The PostgreSQL backends of the connections that pass through `proxy` (the server's)."""
    ports = sorted(proxy.upstream_ports())
    with psycopg.connect(host=test_database["host"], port=test_database["port"], user="postgres") as admin:
        pids = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND client_port = ANY(%s)",
            (test_database["name"], ports),
        ).fetchall()
    return [pid for (pid,) in pids]


def test_requests_reuse_pooled_connections_and_survive_the_server_ending_them(
    transactional_db: None,
    test_database: dict[str, str],
    database_proxy: TcpProxy,
    database_proxy_url: str,
    uvicorn_server: Callable[..., str],
) -> None:
    key = api_key_create(name="pool").key
    base_url = uvicorn_server(DATABASE_URL=database_proxy_url, CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for i in range(REQUESTS):
            response = http.post(TRACK, json=page_view(path=f"/pooled/{i}"), headers=headers)
            assert response.status_code == 200, response.text
        # Without a pool every request opens its own connections (at least one each).
        assert 1 <= database_proxy.accepted <= settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]

        # The database ends every session of the server (a restart, an administrator, a failover).
        ended = _backends_behind(database_proxy, test_database)
        assert ended, "the server keeps no connection open: there is no pool"
        with psycopg.connect(
            host=test_database["host"], port=test_database["port"], user="postgres", autocommit=True
        ) as admin:
            for pid in ended:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        opened = database_proxy.accepted
        for i in range(3):  # each connection lent is checked first: no request meets a dead one
            response = http.post(TRACK, json=page_view(path=f"/after/{i}"), headers=headers)
            assert response.status_code == 200, response.text
        assert database_proxy.accepted > opened
    assert UserEvent.objects.filter(page_path__startswith="/pooled/").count() == REQUESTS
    assert UserEvent.objects.filter(page_path__startswith="/after/").count() == 3


def test_a_forked_child_opens_its_own_connection_and_the_parent_keeps_working(transactional_db: None) -> None:
    assert connection.settings_dict["OPTIONS"].get("pool"), "the pool is off in the integration tier"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        parent_pid = cursor.fetchone()[0]
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: one query, its backend's pid to the parent, and out
        code = 1
        try:
            os.close(read)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                os.write(write, str(cursor.fetchone()[0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_pid = int(pipe.read() or "0")
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_pid and child_pid != parent_pid  # its own session, not the parent's socket
    with connection.cursor() as cursor:  # the parent's session is intact
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == parent_pid
