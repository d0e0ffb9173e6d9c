"""Helpers of the integration tier: bounded polling and real service subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Every subprocess started this session; their log tails are attached to failing test reports.
SERVICES: list[ServiceProcess] = []


def wait_until(
    probe: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.2,
    what: str,
    alive: Sequence[ServiceProcess] = (),
) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds.

    `alive` lists processes that must keep running meanwhile: if one dies, waiting longer is
    pointless, so this fails at once with its log.
    """
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not last:
        for service in alive:
            service.assert_running()
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last probe: {last!r})")
        time.sleep(interval)
        last = probe()
    return last


class ServiceProcess:
    """A real service (worker, beat, uvicorn, redis-server) in its own process group."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: dict[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        SERVICES.append(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def assert_running(self) -> None:
        if not self.running():
            raise AssertionError(f"{self.name} exited with code {self.process.returncode}; its log:\n{self.tail()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, *, grace: float = 15.0) -> None:
        """SIGTERM the main process (a Celery worker's warm shutdown lets running tasks finish), then
        SIGKILL its whole process group: nothing it started outlives the test."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Children (prefork pool processes) may outlive the parent: the group goes in any case.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._log.close()


def uvicorn_start(
    *,
    port: int,
    env: dict[str, str],
    log_path: Path,
    cwd: Path,
    options: Sequence[str] = (),
    prefix: Sequence[str] = (),
) -> tuple[ServiceProcess, str]:
    """`uvicorn loopin_backend.asgi:application` on `port` (after `prefix`, e.g. a `prlimit` wrapper), ready
    once its OpenAPI schema answers; returns the process and its base URL."""
    import sys

    import httpx

    command = [*prefix, sys.executable, "-m", "uvicorn", "loopin_backend.asgi:application", *options]
    server = ServiceProcess(
        "uvicorn", [*command, "--host", "127.0.0.1", "--port", str(port)], env=env, log_path=log_path, cwd=cwd
    )
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/api/openapi.json", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, timeout=60, interval=0.3, what="uvicorn to answer", alive=[server])
    except BaseException:
        server.stop()
        raise
    return server, base_url
