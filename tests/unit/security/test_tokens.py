"""JWT bearer tokens on the read API (RFC 8725): algorithm allow-list, exp/aud/iss, kid, roles."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from fastapi.testclient import TestClient

from analytics.errors import Unauthenticated, ValidationFailed
from analytics.security.roles import Role
from analytics.security.tokens import token_issue, token_verify

ADMIN_ROUTE = "/api/analytics/events/failed"


def _claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": "someone",
        "role": "admin",
        "aud": django_settings.JWT_AUDIENCE,
        "iss": django_settings.JWT_ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, object], *, key: str | None = None, kid: str | None = None, alg: str = "HS256") -> str:
    return jwt.encode(
        claims,
        key if key is not None else django_settings.JWT_SIGNING_KEY,
        algorithm=alg,
        headers={"kid": kid if kid is not None else django_settings.JWT_KEY_ID},
    )


def test_issued_token_round_trips_to_its_principal() -> None:
    principal = token_verify(token_issue(role="host", sub="h-1", host_id="42"))
    assert (principal.subject, principal.role, principal.host_id) == ("h-1", Role.HOST, "42")


def test_issued_token_carries_every_documented_claim_and_kid() -> None:
    token = token_issue(role="analyst", sub="ana")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["kid"] == django_settings.JWT_KEY_ID
    assert {"sub", "role", "aud", "iss", "iat", "exp"} <= set(claims)


def test_host_token_without_host_id_is_refused_at_issue() -> None:
    with pytest.raises(ValidationFailed):
        token_issue(role="host", sub="h")


@pytest.mark.parametrize(
    ("token_factory", "code"),
    [
        (lambda: _sign(_claims(exp=int((datetime.now(UTC) - timedelta(minutes=5)).timestamp()))), "token_expired"),
        (lambda: _sign(_claims(aud="someone-else")), "invalid_token"),
        (lambda: _sign(_claims(iss="someone-else")), "invalid_token"),
        (lambda: _sign(_claims(), key="another-key-that-is-long-enough-to-sign-hs256-tokens"), "invalid_token"),
        (lambda: _sign(_claims(), kid="unknown-kid"), "invalid_token"),
        (lambda: _sign(_claims(role="superuser")), "invalid_token"),
        (lambda: _sign(_claims(role="host")), "invalid_token"),
        (lambda: _sign(_claims(exp=None)), "invalid_token"),
        (lambda: _sign(_claims(sub=None)), "invalid_token"),
        (
            lambda: jwt.encode(_claims(), None, algorithm="none", headers={"kid": django_settings.JWT_KEY_ID}),
            "invalid_token",
        ),
        (lambda: "not-a-jwt", "invalid_token"),
    ],
    ids=[
        "expired",
        "wrong-aud",
        "wrong-iss",
        "wrong-key",
        "wrong-kid",
        "unknown-role",
        "host-without-host-id",
        "no-exp",
        "no-sub",
        "alg-none",
        "garbage",
    ],
)
def test_bad_tokens_are_refused(token_factory: object, code: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        token_verify(token_factory())  # type: ignore[operator]
    assert caught.value.code == code


def test_rs256_tokens_sign_with_private_and_verify_with_public_key(settings: object) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings.JWT_ALGORITHM = "RS256"  # type: ignore[attr-defined]
    settings.JWT_SIGNING_KEY = private_pem  # type: ignore[attr-defined]
    settings.JWT_VERIFYING_KEY = public_pem  # type: ignore[attr-defined]
    token = token_issue(role="admin", sub="rs")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert token_verify(token).subject == "rs"
    # An HS256 token signed with the public key (the classic algorithm-confusion attack) is refused.
    forged = jwt.encode(_claims(), "x" * 64, algorithm="HS256", headers={"kid": django_settings.JWT_KEY_ID})
    with pytest.raises(Unauthenticated):
        token_verify(forged)


def test_read_routes_answer_401_without_credentials(client: TestClient) -> None:
    response = client.get(ADMIN_ROUTE)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"
    assert response.headers["www-authenticate"] == "Bearer"


def test_admin_route_answers_403_to_an_analyst(client: TestClient) -> None:
    token = token_issue(role="analyst", sub="ana")
    response = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_role"


def test_admin_route_answers_200_to_an_admin(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get(ADMIN_ROUTE, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_write_key_is_not_a_read_token(client: TestClient, write_key: str) -> None:
    response = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {write_key}"})
    assert response.status_code == 401


def _test_database_env() -> dict[str, str]:
    """The environment of a `manage.py` subprocess that uses this test run's database."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{django_settings.DATABASES['default']['NAME']}"}


def test_issue_token_command_prints_only_a_token_the_server_accepts(client: TestClient) -> None:
    """With DEBUG on and no JWT key, `issue_token` and the server derive the same development key."""
    result = subprocess.run(
        [sys.executable, "manage.py", "issue_token", "--role", "admin", "--sub", "cli-test", "--ttl-minutes", "5"],
        capture_output=True,
        text=True,
        env=_test_database_env(),
        check=True,
        timeout=60,
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    token = lines[0]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "cli-test" and claims["role"] == "admin"
    assert client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_issue_token_command_refuses_host_without_host_id() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "issue_token", "--role", "host"],
        capture_output=True,
        text=True,
        env=_test_database_env(),
        timeout=60,
    )
    assert result.returncode != 0
    assert "host-id" in result.stderr
