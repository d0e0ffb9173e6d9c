"""Flower never runs open (security issue, "Logins": Flower, when run, sits behind authentication from
settings): `make flower` refuses to start without FLOWER_BASIC_AUTH, and a started Flower answers 401
without the credentials. Run once with the check removed: the refusal test failed; with the credentials
not passed on, the served test failed (Flower answered 200 to anyone)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from loopin_backend.flower import flower_auth_problem
from tests.integration.proxy import free_port
from tests.integration.support import ServiceProcess, wait_until

ROOT = Path(__file__).resolve().parents[3]
AUTH = "ops:a-long-flower-password"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is not set"),
        ("ops", "must be user:password"),
        (":a-long-flower-password", "must be user:password"),
        ("ops:short", "shorter than 12"),
        ("ops:a-long-flower-password,guest:short", "'guest' is shorter"),
    ],
)
def test_weak_or_missing_credentials_are_named(value: str, problem: str) -> None:
    assert problem in (flower_auth_problem(value) or "")


def test_make_flower_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    env = {**os.environ, "FLOWER_BASIC_AUTH": "", "DEBUG": "true", "ANALYTICS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "loopin_backend.flower", "--port=1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        text=True,
    )
    assert done.returncode == 2
    assert "FLOWER_BASIC_AUTH is not set" in done.stderr


def test_a_running_flower_asks_for_the_credentials(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "FLOWER_BASIC_AUTH": AUTH,
        "DEBUG": "true",
        "ANALYTICS_DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "memory://",
    }
    flower = ServiceProcess(
        "flower",
        [sys.executable, "-m", "loopin_backend.flower", f"--port={port}", "--address=127.0.0.1"],
        env=env,
        log_path=tmp_path / "flower.log",
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            httpx.get(base, timeout=2)
        except httpx.TransportError:
            return False
        return True

    try:
        wait_until(answers, timeout=60, what="Flower answers", alive=[flower])
        assert httpx.get(base, timeout=5).status_code == 401
        assert httpx.get(base, auth=("ops", "wrong-password-x"), timeout=5).status_code == 401
        assert httpx.get(base, auth=("ops", "a-long-flower-password"), timeout=5).status_code == 200
    finally:
        flower.stop()
