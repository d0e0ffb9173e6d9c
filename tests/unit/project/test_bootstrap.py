"""`make run`'s bootstrap populates an empty service once and never duplicates anything."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from analytics.models import ApiKey, BusinessMetric, DashboardUser, UserBehaviorProfile, UserEvent, UserPersona
from analytics.security.api_keys import api_key_authenticate
from analytics.simulator.realism import REALISM_RANGES

pytestmark = pytest.mark.django_db(transaction=True)


def _bootstrap(*extra: str) -> str:
    out = StringIO()
    call_command(
        "bootstrap",
        *("--users", "60", "--days", "14", "--seed", "3", "--no-anomalies", "--no-progress", *extra),
        stdout=out,
    )
    return out.getvalue()


def test_bootstrap_populates_an_empty_service_once(tmp_path: Path, settings_data_dir: Path) -> None:
    first = _bootstrap()
    events = UserEvent.objects.count()
    assert events > 0
    assert UserEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert BusinessMetric.objects.exists()
    # behaviour profiles for the active users, then personas when enough of them have enough behaviour
    assert UserBehaviorProfile.objects.count() == 60
    assert UserPersona.objects.filter(is_current=True).exists(), first  # 30 users × 10 days are enough
    assert "personas (" in first, first
    assert (settings_data_dir / "ground_truth.json").exists()
    key = (settings_data_dir / "demo_write_key.txt").read_text().strip()
    assert api_key_authenticate(key).name == "demo (make run)"
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    # one dashboard login per role, the passwords kept beside the admin's; each password logs in
    logins = [line.split() for line in (settings_data_dir / "dashboard_passwords.txt").read_text().splitlines()[1:]]
    assert sorted(parts[1] for parts in logins) == ["admin", "analyst", "host"]
    for parts in logins:
        assert authenticate(username=parts[0], password=parts[-1]) is not None, parts[0]
    host_login = next(parts for parts in logins if parts[1] == "host")
    assert DashboardUser.objects.get(user__username=host_login[0]).host_id == host_login[2]
    assert "http://127.0.0.1:8000/dashboard/" in first
    assert "http://127.0.0.1:8000/api/docs" in first
    # the demo says how it compares with a real events platform, one line per documented range
    assert 'how the demo compares with a real events platform (docs/simulator.md, "Realism")' in first
    for bounds in REALISM_RANGES.values():
        assert f"  {bounds.what}: " in first, bounds.what

    second = _bootstrap("--base-url", "http://0.0.0.0:9000/")  # make run passes HOST and PORT
    assert "not simulating" in second
    assert "http://0.0.0.0:9000/api/docs" in second and ":8000" not in second
    assert UserEvent.objects.count() == events
    assert ApiKey.objects.count() == 1
    assert get_user_model().objects.count() == 4  # admin and the three dashboard logins, made once


@pytest.fixture
def settings_data_dir(settings: object, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    settings.DEBUG = True  # type: ignore[attr-defined]  # the development admin login is a DEBUG feature
    return tmp_path


def test_bootstrap_creates_no_admin_login_in_production_mode(settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    settings.DEBUG = False  # type: ignore[attr-defined]
    assert "createsuperuser" in _bootstrap()
    assert not get_user_model().objects.exists()
