"""FAULT: the data directory is full in embedded mode (SQLite). The sandbox cannot mount a small tmpfs, so the
server runs under a file-size limit (`prlimit --fsize`): its database files cannot grow past it, as on a full
disk. Every batch is acknowledged only once committed; the first one that cannot be written gets a clear 503
(`storage_unavailable`, Retry-After) instead of a 500, and nothing acknowledged is lost: after a restart
without the limit, every acknowledged event is there."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.integration.conftest import ROOT, service_env
from tests.integration.proxy import free_port
from tests.integration.support import ServiceProcess, uvicorn_start

BATCH = "/api/analytics/events/batch"
HEADROOM = 3_000_000  # bytes each database file may grow by


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


def _serve(env: dict[str, str], log: Path, *, limit: int | None) -> tuple[ServiceProcess, str]:
    prefix = [str(shutil.which("prlimit")), f"--fsize={limit}", "--"] if limit is not None else []
    return uvicorn_start(port=free_port(), env=env, log_path=log, cwd=ROOT, prefix=prefix)


def test_a_full_data_directory_answers_a_clear_503_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    assert shutil.which("prlimit"), "prlimit (util-linux, part of every Debian system) is needed"
    data = tmp_path / "data"
    data.mkdir()
    env = service_env(ANALYTICS_DATA_DIR=str(data), DATABASE_URL="", CELERY_BROKER_URL="", DEBUG="true")
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the service's own settings, as `make run` serves them
    _manage(env, "migrate", "-v0")
    key = _manage(env, "create_api_key", "--name", "full disk").strip().splitlines()[-1]
    database = data / "analytics.sqlite3"

    server, base = _serve(env, tmp_path / "limited.log", limit=database.stat().st_size + HEADROOM)
    acknowledged: list[str] = []
    refusal = None
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(200):
                events = [
                    {
                        "uuid": str(uuid.uuid4()),
                        "event_name": "page_view",
                        "user_id": f"u{i}",
                        "properties": {"path": "/x" * 50},
                    }
                    for i in range(200)
                ]
                response = http.post(BATCH, json={"events": events}, headers={"X-API-Key": key})
                if response.status_code != 200:
                    refusal = response
                    break
                acknowledged.extend(e["uuid"] for e in events)
    finally:
        server.stop()
    assert refusal is not None, "the limit was never reached"
    assert refusal.status_code == 503, refusal.text
    assert refusal.json()["error"]["code"] == "storage_unavailable"
    assert int(refusal.headers["retry-after"]) > 0
    assert acknowledged  # batches were acknowledged before the disk filled up

    restarted, _ = _serve(env, tmp_path / "restarted.log", limit=None)  # the operator frees space
    restarted.stop()
    with sqlite3.connect(database) as connection:
        stored = {row[0] for row in connection.execute("SELECT uuid FROM analytics_user_event")}
    normalized = {str(uuid.UUID(value)) for value in stored}
    assert set(acknowledged) <= normalized  # nothing acknowledged lost
