"""The service served by uvicorn on a small simulated platform, as `make run` serves it — for the tiers that
drive it from outside (the browser tier, the API fuzzing tier).

A scratch directory holds its SQLite database, its data directory (the demo's write key, the dashboard
logins) and the server's log. The platform is built by `manage.py bootstrap`, as `make run` does, on a
smaller platform; the server runs with the service's own uvicorn options, in its own process group, taken
down when the context ends."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from loopin_backend.server_protocol import UVICORN_OPTIONS
from tests.integration.proxy import free_port
from tests.integration.support import ServiceProcess, wait_until

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60


@dataclass(frozen=True)
class Served:
    base_url: str
    env: dict[str, str]
    data_dir: Path
    logins: dict[str, tuple[str, str, str]]  # role → (username, password, host id or "")

    def manage(self, *args: str) -> str:
        """Run a management command against the served database; its standard output."""
        return manage(self.env, *args)


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _logins(data_dir: Path) -> dict[str, tuple[str, str, str]]:
    logins = {}
    for line in (data_dir / "dashboard_passwords.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        username, role, password = parts[0], parts[1], parts[-1]
        logins[role] = (username, password, parts[2] if len(parts) == 4 else "")
    return logins


@contextlib.contextmanager
def served_demo(work: Path, *, users: int, days: int, env: dict[str, str] | None = None) -> Iterator[Served]:
    """Bootstrap a demo of `users` × `days` in `work` and serve it on a free port until the context ends.
    `env` adds or overrides the server's settings."""
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loopin_backend.settings",
        "DEBUG": "true",
        "ANALYTICS_DATA_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{work / 'served.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "ANALYTICS_EMBEDDED_SCHEDULER": "false",
        **(env or {}),
    }
    manage(server_env, "migrate", "--noinput", "-v0")
    manage(server_env, "bootstrap", "--users", str(users), "--days", str(days), "--no-progress")
    port = free_port()
    server = ServiceProcess(
        "uvicorn",
        [
            *(sys.executable, "-m", "uvicorn", "loopin_backend.asgi:application"),
            *UVICORN_OPTIONS,
            *("--host", "127.0.0.1", "--port", str(port)),
        ],
        env=server_env,
        log_path=work / "server.log",
        cwd=ROOT,
    )
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/api/analytics/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, timeout=START_TIMEOUT, what="the served demo answers /health", alive=[server])
        yield Served(base_url=base_url, env=server_env, data_dir=work, logins=_logins(work))
    finally:
        server.stop()
