"""TLS in transit (docs/operations.md, "TLS in transit"): production refuses to start when a configured
connection would send a password in clear to another machine, and starts when TLS protects it, when the
host is this machine, or when the operator says the network is private."""

from __future__ import annotations

import pytest

from analytics.security.transport import cleartext_credentials, cleartext_url
from tests.unit.project.test_settings import STRONG, _load_settings

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG + "-jwt"}


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("postgres://loopin:pw@db.internal:5432/loopin", True),
        ("postgres://loopin:pw@db.internal:5432/loopin?sslmode=require", False),
        ("postgres://loopin:pw@db.internal:5432/loopin?sslmode=verify-full", False),
        ("postgres://loopin:pw@db.internal:5432/loopin?sslmode=prefer", True),  # prefer falls back to clear
        ("postgres://loopin:pw@127.0.0.1:5432/loopin", False),  # this machine
        ("postgres://postgres@db.internal:5432/loopin", False),  # no password to leak
        ("redis://:pw@cache.internal:6379/0", True),
        ("rediss://:pw@cache.internal:6380/0", False),
        ("amqp://user:pw@mq.internal:5672//", True),
        ("amqps://user:pw@mq.internal:5671//", False),
        ("redis://:pw@[::1]:6379/0", False),
    ],
)
def test_a_password_to_another_machine_needs_tls(url: str, refused: bool) -> None:
    assert (cleartext_url("URL", url) is not None) is refused


def test_smtp_passwords_need_starttls_or_tls() -> None:
    def smtp(**kw: object) -> list[str]:
        base = {"email_host": "smtp.example.com", "email_password": "pw", "email_tls": False, "email_ssl": False}
        return cleartext_credentials(urls={}, **{**base, **kw})  # type: ignore[arg-type]

    assert smtp() and "EMAIL_USE_TLS" in smtp()[0]
    assert smtp(email_tls=True) == [] and smtp(email_ssl=True) == [] and smtp(email_password="") == []


def test_production_refuses_a_cleartext_database_password_and_names_the_fix() -> None:
    result = _load_settings(**PRODUCTION, DATABASE_URL="postgres://loopin:pw@db.internal:5432/loopin")
    assert result.returncode != 0
    assert "DATABASE_URL sends its password to db.internal without TLS: add ?sslmode=require" in result.stderr


def test_production_starts_with_tls_or_on_a_declared_private_network() -> None:
    with_tls = _load_settings(**PRODUCTION, DATABASE_URL="postgres://loopin:pw@db.internal:5432/loopin?sslmode=require")
    assert with_tls.returncode == 0, with_tls.stderr
    private = _load_settings(
        **PRODUCTION,
        DATABASE_URL="postgres://loopin:pw@db.internal:5432/loopin",
        ANALYTICS_ALLOW_CLEARTEXT_CREDENTIALS="true",
    )
    assert private.returncode == 0, private.stderr
