"""The privacy settings refuse to start when they could not work: a key that is not a Fernet key (every
review would fail to store), a phone region libphonenumber does not know, a retention horizon shorter than
the metrics read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[3]
_LOAD = "import django; django.setup(); print('started')"


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    """Load the service's settings in a fresh interpreter with `env`."""
    return subprocess.run(
        [sys.executable, "-c", _LOAD],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "loopin_backend.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_privacy_settings_start() -> None:
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    started = _start(FIELD_ENCRYPTION_KEYS=keys, ANALYTICS_PHONE_REGIONS="IN,us", ANALYTICS_RETENTION_DAYS="120")
    assert started.returncode == 0 and started.stdout.strip() == "started", started.stderr[-500:]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FIELD_ENCRYPTION_KEYS": "not-a-key"}, "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key"),
        ({"ANALYTICS_PHONE_REGIONS": "IN,XX"}, "ANALYTICS_PHONE_REGIONS names unknown regions: XX"),
        ({"ANALYTICS_RETENTION_DAYS": "30"}, "ANALYTICS_RETENTION_DAYS"),
    ],
)
def test_unusable_privacy_settings_refuse_to_start(env: dict[str, str], message: str) -> None:
    started = _start(**env)
    assert started.returncode != 0 and message in started.stderr, started.stderr[-500:]
