"""Admin and dashboard logins under attack (security issue, "Logins"): per-account and per-network lockout
of failed logins, and TOTP two-factor authentication — required for staff, superusers and dashboard admins,
optional for the rest. Each test names the defence it catches; each was run once with that defence removed
and failed.

Logins go through the real forms with Django's test client; time is the injected clock (no sleeps), the
codes are computed from the device's secret at the real time (django-otp verifies against `time.time()`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from analytics import clock
from analytics.collection.buffer import event_buffer
from analytics.dashboard.accounts import dashboard_user_create
from analytics.models import Alert, AuditLog
from analytics.security.logins import ACCOUNT_FAILURES, NETWORK_FAILURES
from analytics.security.two_factor import totp_code, totp_device, totp_enrol
from tests.support.logins import verified_client

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_LOGIN, DASHBOARD_LOGIN = "/admin/login/", "/dashboard/login/"
PASSWORD = "a-long-password-for-tests"


@pytest.fixture(autouse=True)
def _moving_clock() -> Iterator[None]:
    clock.freeze(datetime.fromisoformat("2026-03-10T12:00:00+00:00"))
    yield
    clock.freeze(None)
    assert event_buffer().flush(timeout=10)  # the host middleware's request events, before the tables empty


def _later(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


def _staff(username: str = "ops") -> TOTPDevice:
    user = get_user_model().objects.create_superuser(username=username, email="", password=PASSWORD)
    totp_enrol(username)
    device = totp_device(user)
    assert device is not None
    return device


def _post(path: str, username: str, password: str, code: str = "", *, network: str = "198.51.100.7") -> Client:
    """A fresh browser from `network` posting the login form; the response is on `client.last`."""
    browser = Client(REMOTE_ADDR=network)
    browser.last = browser.post(path, {"username": username, "password": password, "otp_token": code})  # type: ignore[attr-defined]
    return browser


def _logged_in(browser: Client) -> bool:
    return browser.last.status_code == 302 and "_auth_user_id" in browser.session  # type: ignore[attr-defined]


def _errors(browser: Client) -> str:
    return browser.last.content.decode()  # type: ignore[attr-defined]


# --- two-factor authentication ---------------------------------------------------------------------


def test_staff_log_in_to_the_admin_with_password_and_code() -> None:
    """Catches: the admin form ignoring the code (a password alone must not be enough for staff)."""
    device = _staff()
    assert not _logged_in(_post(ADMIN_LOGIN, "ops", PASSWORD))
    assert "six-digit code" in _errors(_post(ADMIN_LOGIN, "ops", PASSWORD))
    browser = _post(ADMIN_LOGIN, "ops", PASSWORD, totp_code(device))
    assert _logged_in(browser)
    assert browser.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused() -> None:
    """Catches: accepting any code, or a code of another step far from now."""
    device = _staff()
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    stale = totp_code(device, at=clock.now().timestamp() - 3600)  # the code of an hour before the real time
    for code in (wrong, "abcdef", stale):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # django-otp's own throttle aside
        browser = _post(ADMIN_LOGIN, "ops", PASSWORD, code)
        assert not _logged_in(browser) and "Wrong or expired code" in _errors(browser), code


def test_a_code_is_accepted_once() -> None:
    """Catches: replaying a code seen over someone's shoulder (django-otp keeps the last step used)."""
    device = _staff()
    code = totp_code(device)
    assert _logged_in(_post(ADMIN_LOGIN, "ops", PASSWORD, code))
    assert not _logged_in(_post(ADMIN_LOGIN, "ops", PASSWORD, code))


def test_staff_who_have_not_enrolled_cannot_log_in() -> None:
    """Catches: two-factor authentication silently optional for staff without a device."""
    get_user_model().objects.create_superuser(username="new-ops", email="", password=PASSWORD)
    browser = _post(ADMIN_LOGIN, "new-ops", PASSWORD)
    assert not _logged_in(browser)
    assert "totp_enrol" in _errors(browser)


def test_a_staff_session_without_two_factor_does_not_open_the_admin() -> None:
    """Catches: the admin site trusting any staff session (`has_permission` must also ask for the code)."""
    user = get_user_model().objects.create_superuser(username="ops", email="", password=PASSWORD)
    password_only = Client()
    password_only.force_login(user)
    response = password_only.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert verified_client(user).get("/admin/").status_code == 200


def test_dashboard_admins_need_a_code_and_analysts_only_once_enrolled() -> None:
    """Catches: the dashboard form without two-factor, or requiring it of roles that need not."""
    admin_password = dashboard_user_create(username="boss", role="admin")
    assert "totp_enrol" in _errors(_post(DASHBOARD_LOGIN, "boss", admin_password))
    totp_enrol("boss")
    boss = get_user_model().objects.get(username="boss")
    assert not _logged_in(_post(DASHBOARD_LOGIN, "boss", admin_password))
    with_code = _post(DASHBOARD_LOGIN, "boss", admin_password, totp_code(totp_device(boss)))  # type: ignore[arg-type]
    assert _logged_in(with_code) and with_code.get("/dashboard/").status_code == 200

    analyst_password = dashboard_user_create(username="ana", role="analyst")
    assert _logged_in(_post(DASHBOARD_LOGIN, "ana", analyst_password))  # not enrolled: a password is enough
    totp_enrol("ana")
    assert not _logged_in(_post(DASHBOARD_LOGIN, "ana", analyst_password))  # enrolled: the code is asked


def test_a_dashboard_admin_session_without_two_factor_is_sent_to_log_in() -> None:
    """Catches: dashboard pages trusting a session from before the account needed a code."""
    dashboard_user_create(username="boss", role="admin")
    password_only = Client()
    password_only.force_login(get_user_model().objects.get(username="boss"))
    response = password_only.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/")
    assert "_auth_user_id" not in password_only.session  # logged out, so the login form is shown, not a loop


def test_totp_enrol_prints_a_secret_and_uri_that_log_in() -> None:
    """Catches: the command printing a secret that is not the device's (the demo and the browser tier
    compute their codes from it)."""
    get_user_model().objects.create_superuser(username="ops", email="", password=PASSWORD)
    out = StringIO()
    call_command("totp_enrol", "--username", "ops", stdout=out)
    lines = out.getvalue().strip().splitlines()
    secret = re.fullmatch(r"secret: ([A-Z2-7]+)", lines[-2])
    assert secret is not None, lines
    assert lines[-1].startswith("otpauth://totp/Loopin%20Analytics%3Aops?secret=" + secret.group(1))
    import base64

    device = TOTPDevice(key=base64.b32decode(secret.group(1)).hex())
    assert _logged_in(_post(ADMIN_LOGIN, "ops", PASSWORD, totp_code(device)))

    call_command("totp_enrol", "--username", "ops", stdout=StringIO())  # a lost phone: a new device
    assert TOTPDevice.objects.count() == 1
    _later(0)
    assert not _logged_in(_post(ADMIN_LOGIN, "ops", PASSWORD, totp_code(device)))  # the old secret is dead


def test_every_enrolment_is_in_the_audit_log_without_its_secret() -> None:
    """Catches: a new way into an admin account (a device) added with no trace of who added it."""
    get_user_model().objects.create_superuser(username="ops", email="", password=PASSWORD)
    out = StringIO()
    call_command("totp_enrol", "--username", "ops", stdout=out)
    call_command("totp_enrol", "--username", "ops", stdout=StringIO())
    rows = list(AuditLog.objects.filter(action="totp.enrol").order_by("id"))
    assert [(r.actor, r.target_type, r.target_id, r.details) for r in rows] == [
        ("cli:totp_enrol", "operator", "ops", {"replaced_devices": 0}),
        ("cli:totp_enrol", "operator", "ops", {"replaced_devices": 1}),
    ]
    secret = out.getvalue().split("secret: ")[1].split()[0]
    assert secret not in str([(r.details, r.target_id) for r in rows])


def test_totp_enrol_names_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="no user 'ghost'"):
        call_command("totp_enrol", "--username", "ghost", stdout=StringIO())


def test_totp_code_works_only_in_development(settings: object) -> None:
    """Catches: the development helper printing codes in production."""
    device = _staff()
    settings.DEBUG = True  # type: ignore[attr-defined]
    out = StringIO()
    call_command("totp_code", "--username", "ops", stdout=out)
    assert out.getvalue().strip() == totp_code(device)
    settings.DEBUG = False  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="only with DEBUG=true"):
        call_command("totp_code", "--username", "ops", stdout=StringIO())


# --- lockout --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [ADMIN_LOGIN, DASHBOARD_LOGIN])
def test_after_five_failures_the_right_password_and_code_are_refused(path: str) -> None:
    """Catches: no per-account lockout (the finding: 100 wrong passwords, then the right one worked)."""
    device = _staff()
    for n in range(ACCOUNT_FAILURES.burst):
        assert not _logged_in(_post(path, "ops", f"wrong-{n}", network=f"10.0.{n}.1"))  # from many networks
    locked = _post(path, "ops", PASSWORD, totp_code(device), network="192.0.2.1")
    assert not _logged_in(locked)
    assert "Too many failed logins for this account: try again in 5 minutes" in _errors(locked)
    _later(ACCOUNT_FAILURES.interval)
    assert _logged_in(_post(path, "ops", PASSWORD, totp_code(device), network="192.0.2.1"))


def test_wrong_codes_count_towards_the_lockout() -> None:
    """Catches: a password known to the attacker leaving the six digits open to guessing."""
    device = _staff()
    for _ in range(ACCOUNT_FAILURES.burst):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        _post(ADMIN_LOGIN, "ops", PASSWORD, "000000" if totp_code(device) != "000000" else "111111")
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    assert "Too many failed logins" in _errors(_post(ADMIN_LOGIN, "ops", PASSWORD, totp_code(device)))


def test_unknown_and_known_usernames_are_locked_alike() -> None:
    """Catches: an attacker learning which usernames exist from the lockout."""
    _staff()
    for name in ("ops", "nobody"):
        for n in range(ACCOUNT_FAILURES.burst):
            _post(ADMIN_LOGIN, name, f"wrong-{n}", network=f"10.1.{n}.1")
    messages = {
        _errors(_post(ADMIN_LOGIN, name, "x", network="192.0.2.9")).count("Too many") for name in ("ops", "nobody")
    }
    assert messages == {1}


def test_many_failures_from_one_network_lock_that_network_only() -> None:
    """Catches: no per-network budget (one place guessing many accounts, a few tries each)."""
    device = _staff()
    for n in range(NETWORK_FAILURES.burst):
        _post(ADMIN_LOGIN, f"guess-{n}", "wrong", network="203.0.113.50")
    from_there = _post(ADMIN_LOGIN, "ops", PASSWORD, totp_code(device), network="203.0.113.51")  # same /24
    assert not _logged_in(from_there) and "from this network" in _errors(from_there)
    assert _logged_in(_post(ADMIN_LOGIN, "ops", PASSWORD, totp_code(device), network="198.51.100.3"))


def test_a_lockout_opens_one_security_alert_per_account_and_network() -> None:
    """Catches: lockouts happening silently (the security issue: lockouts open alerts)."""
    _staff()
    for n in range(ACCOUNT_FAILURES.burst + 3):
        _post(ADMIN_LOGIN, "ops", f"wrong-{n}", network="10.2.0.1")
    (alert,) = Alert.objects.filter(source="security")
    assert (alert.dedup_key, alert.metric_name, alert.state) == (
        "security:login_lockout:ops",
        "security_login_lockout",
        "open",
    )
    assert alert.dimensions == {"account": "ops"}
    for n in range(NETWORK_FAILURES.burst):
        _post(ADMIN_LOGIN, f"guess-{n}", "wrong", network="10.3.0.1")
    assert Alert.objects.filter(source="security", dedup_key="security:login_failures:10.3.0.0/24").count() == 1
