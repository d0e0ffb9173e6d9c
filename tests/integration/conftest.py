"""The integration tier: the real PostgreSQL, a private Redis broker and real Celery processes.

`python -m tests.tiers integration` runs this tier. The broker is a private `redis-server` on a
free port (never the machine's shared Redis) behind a `TcpProxy` that tests close and reopen to
make an outage. pytest-django loads the Django settings in `pytest_load_initial_conftests`, before
any conftest is imported, so setting CELERY_BROKER_URL here would be too late: tests/tiers.py
chooses the proxy's port and passes CELERY_BROKER_URL and LOOPIN_TEST_BROKER_PROXY_PORT; this
module checks the settings really point there and listens on that port.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from loopin_backend.server_protocol import UVICORN_OPTIONS
from tests.integration.proxy import TcpProxy, free_port
from tests.integration.support import SERVICES, ServiceProcess, uvicorn_start, wait_until

ROOT = Path(__file__).resolve().parents[2]
IN_TIER = os.environ.get("LOOPIN_TEST_INTEGRATION") == "1"

if not IN_TIER:
    # Outside its tier runner (a bare `pytest`) this tier is not collected; the reason is printed.
    collect_ignore_glob = ["test_*.py"]
else:
    from django.conf import settings

    _proxy_port = os.environ.get("LOOPIN_TEST_BROKER_PROXY_PORT", "")
    _expected_broker = f"redis://127.0.0.1:{_proxy_port}/0"
    if not _proxy_port.isdigit() or settings.CELERY_BROKER_URL != _expected_broker or settings.CELERY_EMBEDDED:
        raise RuntimeError(
            "the integration tier needs CELERY_BROKER_URL=redis://127.0.0.1:<port>/0 and "
            "LOOPIN_TEST_BROKER_PROXY_PORT=<port> in the environment before Django loads its settings; "
            "run it with `python -m tests.tiers integration`"
        )
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("the integration tier runs on PostgreSQL (DATABASE_URL=postgres://…)")
    BROKER_PROXY_PORT = int(_proxy_port)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not IN_TIER:
        terminalreporter.write_line(
            "tests/integration not collected: this tier runs with `python -m tests.tiers integration`"
        )


_FIRST_SERVICE = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_FIRST_SERVICE] = len(SERVICES)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's report carries the log tail of every service it started or found running."""
    report = yield
    if report.failed:
        first = item.stash.get(_FIRST_SERVICE, len(SERVICES))
        for position, service in enumerate(SERVICES):
            if position < first and not service.running():
                continue
            state = "running" if service.running() else f"exited {service.process.returncode}"
            report.sections.append((f"{service.name} log ({state}, pid {service.pid})", service.tail(80)))
    return report


# --- the broker ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def private_redis(services_dir: Path) -> Iterator[int]:
    """A private redis-server on a free port (no persistence); the shared one is never touched."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (tests/tiers.py checks this before running the tier)"
    port = free_port()
    server = ServiceProcess(
        "redis-server",
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(services_dir),
        ],
        env=dict(os.environ),
        log_path=services_dir / "redis.log",
    )
    try:
        wait_until(lambda: _redis_answers(port), timeout=15, what="the private redis-server", alive=[server])
        yield port
    finally:
        server.stop()


@pytest.fixture(scope="session", autouse=True)
def broker_proxy(private_redis: int) -> Iterator[TcpProxy]:
    """The broker every process of this tier uses: the proxy in front of the private redis-server.

    Autouse: the app under test publishes to it after every ingestion commit. A test that closes
    it must reopen it (the `broker_down` fixture does)."""
    proxy = TcpProxy("127.0.0.1", private_redis, port=BROKER_PROXY_PORT, name="broker")
    proxy.open()
    yield proxy
    proxy.stop()


@pytest.fixture
def broker_down(broker_proxy: TcpProxy) -> Iterator[TcpProxy]:
    """The broker proxy, reopened after the test whatever happened."""
    yield broker_proxy
    if not broker_proxy.is_open:
        broker_proxy.open()


# --- the database the subprocesses use -------------------------------------------------------------
def _postgres_url(*, host: str, port: int | str, name: str) -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "postgres", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    return f"postgres://{auth}@{host}:{port}/{name}"


@pytest.fixture(scope="session")
def test_database(django_db_setup: None) -> dict[str, Any]:
    """Where the test database lives (pytest-django created and migrated it)."""
    db = settings.DATABASES["default"]
    return {"host": db.get("HOST") or "127.0.0.1", "port": int(db.get("PORT") or 5432), "name": db["NAME"]}


@pytest.fixture(scope="session")
def test_database_url(test_database: dict[str, Any]) -> str:
    return _postgres_url(host=test_database["host"], port=test_database["port"], name=test_database["name"])


def service_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
    env.pop("LOOPIN_TEST_INTEGRATION", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(overrides)
    return env


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "loopin_backend", *args]


# --- Celery processes ------------------------------------------------------------------------------
WORKER_HEARTBEAT_SECONDS = "1"


def worker_heartbeat_seen(pid: int) -> bool:
    from analytics.models import WorkerHeartbeat

    return WorkerHeartbeat.objects.filter(pid=pid).exists()


def _worker_start(test_database_url: str, log_path: Path, **env: str) -> ServiceProcess:
    """Start a real worker with `env` added to its environment; ready once it consumes."""
    worker = ServiceProcess(
        "celery worker",
        _celery(
            "worker",
            "--loglevel=info",
            "--concurrency=2",
            "-P",
            "prefork",
            "-n",
            "itest-worker@%h",
            "--without-mingle",
            "--without-gossip",
        ),
        env=service_env(
            **{
                "DATABASE_URL": test_database_url,
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "ANALYTICS_WORKER_HEARTBEAT_SECONDS": WORKER_HEARTBEAT_SECONDS,
                **env,  # a test's own broker, keys, timeouts
            }
        ),
        log_path=log_path,
        cwd=ROOT,
    )
    try:
        wait_until(
            lambda: worker_heartbeat_seen(worker.pid),
            timeout=60,
            interval=0.3,
            what="the Celery worker's heartbeat row",
            alive=[worker],
        )
        wait_until(lambda: "ready." in worker.log_text(), timeout=30, what="the worker to consume", alive=[worker])
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.fixture
def celery_worker(
    transactional_db: None, test_database_url: str, broker_proxy: TcpProxy, tmp_path: Path
) -> Iterator[ServiceProcess]:
    """A real `celery -A loopin_backend worker` (prefork, 2 processes, every queue) on the test database.

    Ready when its heartbeat row is in the database (written from its `worker_ready` signal).
    Per test and after `transactional_db`: it is shut down before pytest-django empties the tables,
    so a task never holds row locks while the next test's TRUNCATE runs."""
    worker = _worker_start(test_database_url, tmp_path / "worker.log")
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def celery_worker_with(
    transactional_db: None, test_database_url: str, broker_proxy: TcpProxy, tmp_path: Path
) -> Iterator[Callable[..., ServiceProcess]]:
    """`celery_worker_with(NAME=value, …)`: the worker above with settings of its own (an outside service's
    address, keys); stopped at the end of the test like `celery_worker`."""
    started: list[ServiceProcess] = []

    def start(**env: str) -> ServiceProcess:
        worker = _worker_start(test_database_url, tmp_path / f"worker-{len(started)}.log", **env)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def _beat_start(test_database_url: str, directory: Path, name: str = "beat") -> ServiceProcess:
    """A real `celery -A loopin_backend beat` sweeping every 2 s, its schedule file in `directory`."""
    beat = ServiceProcess(
        f"celery {name}",
        _celery(
            "beat",
            "--loglevel=info",
            "-s",
            str(directory / f"{name}-schedule"),
            "--pidfile",
            str(directory / f"{name}.pid"),
        ),
        env=service_env(
            DATABASE_URL=test_database_url,
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            ANALYTICS_SWEEP_INTERVAL_SECONDS="2",
        ),
        log_path=directory / f"{name}.log",
        cwd=ROOT,
    )
    try:
        wait_until(lambda: "beat: Starting" in beat.log_text(), timeout=30, what="celery beat to start", alive=[beat])
    except BaseException:
        beat.stop()
        raise
    return beat


@pytest.fixture
def celery_beat_named(
    transactional_db: None, test_database_url: str, broker_proxy: TcpProxy, tmp_path: Path
) -> Iterator[Callable[[str], ServiceProcess]]:
    """`celery_beat_named("beat-b")`: one more beat like `celery_beat`, with its own schedule file and log."""
    started: list[ServiceProcess] = []

    def start(name: str) -> ServiceProcess:
        started.append(_beat_start(test_database_url, tmp_path, name))
        return started[-1]

    try:
        yield start
    finally:
        for beat in started:
            beat.stop()


@pytest.fixture
def celery_beat(celery_beat_named: Callable[[str], ServiceProcess]) -> ServiceProcess:
    """A real `celery -A loopin_backend beat` sweeping every 2 s (its schedule file in a temp dir)."""
    return celery_beat_named("beat")


# --- the ASGI app as a real server -----------------------------------------------------------------
@pytest.fixture
def database_proxy(test_database: dict[str, Any]) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the shared PostgreSQL, for a subprocess whose database goes away."""
    proxy = TcpProxy(test_database["host"], test_database["port"], name="postgresql")
    proxy.open()
    yield proxy
    proxy.stop()


@pytest.fixture
def database_proxy_url(database_proxy: TcpProxy, test_database: dict[str, Any]) -> str:
    """DATABASE_URL of the test database reached through `database_proxy`."""
    return _postgres_url(host=database_proxy.host, port=database_proxy.port, name=test_database["name"])


@pytest.fixture
def uvicorn_server(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `uvicorn loopin_backend.asgi:application` with the given environment; returns its base URL."""
    started: list[ServiceProcess] = []

    def start(**env: str) -> str:
        port = free_port()
        server, base_url = uvicorn_start(
            port=port,
            env=service_env(**env),
            log_path=tmp_path / f"uvicorn-{port}.log",
            cwd=ROOT,
            options=[*UVICORN_OPTIONS, "--log-level", "info", "--no-access-log"],
        )
        started.append(server)
        return base_url

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def enqueue_after_commit() -> None:
    """Wait (bounded) until the in-process publisher is not backing off after an earlier broker
    outage, so a test can rely on ingestion itself enqueueing processing (no sweeper running)."""
    from analytics.tasks import dispatch

    wait_until(
        lambda: time.monotonic() >= dispatch._skip_until,
        timeout=15,
        what="the publisher's back-off after a broker outage to end",
    )
