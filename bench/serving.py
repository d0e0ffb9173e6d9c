"""The real server for the benchmarks: `uvicorn` in its own session on a free port, ready when its
health endpoint answers, stopped with its workers. Shared by bench/ingest.py and bench/bi.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from loopin_backend.server_protocol import UVICORN_OPTIONS

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(
    env: dict[str, str], log_path: Path, *, workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve the service with `env`; yields (base URL, process). Its output goes to `log_path`."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "loopin_backend.asgi:application",
        *UVICORN_OPTIONS,
        "--host",
        "127.0.0.1",
    ]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/api/analytics/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not answer within 60 s:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        yield base, process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the uvicorn master and its workers (its own session)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
