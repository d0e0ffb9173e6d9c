"""What the PostgreSQL benchmarks share: printing and timing, the service's environment for a benchmark
database, the project's management commands, building that database by simulating a platform into it
(bench/bi.py, bench/models.py), and the memory of process trees from /proc (bench/ingest.py, bench/soak.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_DSN = "host=127.0.0.1 port=5432 user=postgres"


def say(line: str) -> None:
    print(line, flush=True)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def service_env(*, database_url: str, data_dir: Path, secret: str, jwt_secret: str) -> dict[str, str]:
    """The service's settings for a benchmark: production mode on its own database, no outside services,
    no background schedule (the benchmark drives the work)."""
    return {
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secret,
        "JWT_SECRET_KEY": jwt_secret,
        "ANALYTICS_DATA_DIR": str(data_dir),
        "CELERY_BROKER_URL": "",
        "CELERY_RESULT_BACKEND": "",
        "POSTHOG_API_KEY": "",
        "OPENAI_API_KEY": "",
        "ANALYTICS_ENABLED": "true",
        "ANALYTICS_EMBEDDED_SCHEDULER": "false",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "*",
        "PYTHONUNBUFFERED": "1",
    }


def database_exists(name: str) -> bool:
    with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def simulator_version() -> str:
    """The simulator's MODEL_VERSION: a benchmark dataset built by another version is built again."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from analytics.simulator.parameters import MODEL_VERSION

    return MODEL_VERSION


def simulated_database_build(
    *, name: str, env: dict[str, str], users: int, days: int, seed: int, end: date, summary_chars: int = 300
) -> None:
    """Drop and create database `name`, migrate it and simulate a platform into it through the real
    pipeline (`manage.py simulate`), then VACUUM ANALYZE. The caller records what it built."""
    with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    full_env = {**os.environ, **env}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=full_env, check=True)
    command = [
        *(sys.executable, "manage.py", "simulate", "--users", str(users), "--days", str(days), "--seed", str(seed)),
        *("--end-date", end.isoformat(), "--batch-size", "10000", "--no-progress"),
    ]
    took, done = timed(lambda: subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True))
    if done.returncode != 0:
        raise SystemExit(f"simulate failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    say(f"generated in {took / 60:.1f} min: " + " ".join(done.stdout.split())[:summary_chars])
    with psycopg.connect(PG_DSN, dbname=name, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def manage(env: dict[str, str], *args: str) -> str:
    """`python manage.py <args>` with `env` (the whole environment); its stdout. A failure ends the benchmark."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def status_kib(pid: int, key: str) -> int:
    """A KiB field of /proc/<pid>/status (`VmRSS:`, `VmHWM:`); 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
