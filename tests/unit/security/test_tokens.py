"""JWT bearer tokens on the read API (RFC 8725): the key chosen by `kid`, the algorithm pinned to the key,
exp (with leeway) / aud / iss required, rotation through JWT_KEYS, roles, and the `issue_token` command.

Refusals are told apart by `details.reason`, so each test shows that *its* defence refused the token.
Forged tokens are built by hand (base64url + HMAC) so that no library default stands in for our checks.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from fastapi.testclient import TestClient

from analytics.errors import Unauthenticated, ValidationFailed
from analytics.security.jwt_keys import JwtKey
from analytics.security.roles import Role
from analytics.security.tokens import MAX_TTL_MINUTES, token_issue, token_verify

ADMIN_ROUTE = "/api/analytics/events/failed"
OLD_SECRET = "the-previous-hs256-secret-still-valid-for-an-overlap-0f3e"


@functools.cache
def _rsa_pair(label: str) -> tuple[str, str]:
    """(private PEM, public PEM) of a 2048-bit RSA key, one per label per test run."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        .strip()  # as loopin_backend/settings.py holds it
    )
    return private_pem, public_pem


def _claims(**overrides: object) -> dict[str, object]:
    """Valid claims for an admin; an override of None removes the claim."""
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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed(header: dict[str, Any], claims: dict[str, object], hmac_secret: bytes | None) -> str:
    """A compact JWS built without PyJWT: HMAC-SHA256 over `header.payload` with `hmac_secret`
    (no signature at all when it is None, as for `alg: none`)."""
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = b"" if hmac_secret is None else hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _refusal(token: str) -> tuple[str, str]:
    """(code, details.reason) of the refusal of `token`; fails the test if the token is accepted."""
    with pytest.raises(Unauthenticated) as caught:
        token_verify(token)
    return caught.value.code, caught.value.details["reason"]


@pytest.fixture
def rs256(settings: Any) -> str:
    """The service configured for RS256 (JWT_PRIVATE_KEY / JWT_PUBLIC_KEY, kid `rs-2026`); the public PEM."""
    private_pem, public_pem = _rsa_pair("current")
    settings.JWT_ALGORITHM = "RS256"
    settings.JWT_SIGNING_KEY = private_pem
    settings.JWT_VERIFYING_KEY = public_pem
    settings.JWT_KEY_ID = "rs-2026"
    return public_pem


# --- issued tokens -----------------------------------------------------------------------------------


def test_issued_token_round_trips_to_its_principal() -> None:
    """Catches: issue and verify drifting apart (a claim, kid or audience one writes and the other refuses)."""
    principal = token_verify(token_issue(role="host", sub="h-1", host_id="42"))
    assert (principal.subject, principal.role, principal.host_id) == ("h-1", Role.HOST, "42")


def test_issued_token_carries_every_documented_claim_and_kid() -> None:
    """Catches: issued tokens losing `kid` or a required claim (they would all be refused)."""
    token = token_issue(role="analyst", sub="ana")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["kid"] == django_settings.JWT_KEY_ID
    assert header["alg"] == django_settings.JWT_ALGORITHM
    assert {"sub", "role", "aud", "iss", "iat", "exp"} <= set(claims)
    assert (claims["aud"], claims["iss"]) == (django_settings.JWT_AUDIENCE, django_settings.JWT_ISSUER)


def test_rs256_tokens_sign_with_private_and_verify_with_public_key(rs256: str) -> None:
    """Catches: RS256 issue or verification broken (the wrong key of the pair used on either side)."""
    token = token_issue(role="admin", sub="rs")
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": "rs-2026", "typ": "JWT"}
    assert token_verify(token).subject == "rs"


def test_hand_signed_tokens_with_the_real_secret_are_accepted() -> None:
    """Catches: a broken `_hand_signed` helper, which would make the forgery tests below pass for the
    wrong reason (a token refused because it is malformed, not because of the defence under test)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": django_settings.JWT_KEY_ID}
    token = _hand_signed(header, _claims(sub="by-hand"), django_settings.JWT_SIGNING_KEY.encode())
    assert token_verify(token).subject == "by-hand"


def test_host_token_without_host_id_is_refused_at_issue() -> None:
    """Catches: issuing host tokens that no route could scope (no host_id)."""
    with pytest.raises(ValidationFailed):
        token_issue(role="host", sub="h")


# --- 1. alg: none ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
@pytest.mark.parametrize("configured", ["HS256", "RS256"])
def test_alg_none_is_refused(request: pytest.FixtureRequest, configured: str, alg: str) -> None:
    """Catches: a verifier that accepts `alg: none` (an unsigned token) or takes the algorithm from the
    token header; the kid is the real one, so only the algorithm check stands in the way."""
    if configured == "RS256":
        request.getfixturevalue("rs256")
    token = _hand_signed({"alg": alg, "typ": "JWT", "kid": django_settings.JWT_KEY_ID}, _claims(), None)
    assert _refusal(token) == ("invalid_token", "algorithm_not_allowed")


# --- 2. algorithm confusion --------------------------------------------------------------------------


@pytest.mark.parametrize("pem_form", ["as-held", "with-trailing-newline"])
def test_hs256_token_signed_with_the_rs256_public_key_is_refused(rs256: str, pem_form: str) -> None:
    """Catches: algorithm confusion — a verifier that allows HS256 and RS256 together and does not pin the
    algorithm to the key, so the public key (known to everyone) becomes an HMAC secret. The forgery is
    signed by hand: PyJWT refuses PEM HMAC secrets when *signing*, an attacker's own code does not."""
    public_bytes = rs256.encode() if pem_form == "as-held" else (rs256 + "\n").encode()
    forged = _hand_signed({"alg": "HS256", "typ": "JWT", "kid": "rs-2026"}, _claims(sub="attacker"), public_bytes)
    assert _refusal(forged) == ("invalid_token", "algorithm_not_allowed")


def test_hs256_token_signed_with_a_rotation_public_key_is_refused(settings: Any) -> None:
    """Catches: algorithm confusion through a JWT_KEYS key — an RS256 verification-only key beside an HS256
    signing key must not verify an HS256 token signed with its public PEM."""
    _, old_public = _rsa_pair("old")
    settings.JWT_KEYS = {"rs-old": JwtKey(alg="RS256", key=old_public)}
    forged = _hand_signed({"alg": "HS256", "typ": "JWT", "kid": "rs-old"}, _claims(), old_public.encode())
    assert _refusal(forged) == ("invalid_token", "algorithm_not_allowed")


def test_rs256_token_under_an_hs256_key_id_is_refused(rs256: str, settings: Any) -> None:
    """Catches: the reverse confusion — a token whose header says RS256 checked against an HS256 key's id
    (the header's algorithm must be the key's own whichever way round)."""
    settings.JWT_KEYS = {"hs-old": JwtKey(alg="HS256", key=OLD_SECRET)}
    private_pem, _ = _rsa_pair("current")
    token = _sign(_claims(), key=private_pem, kid="hs-old", alg="RS256")
    assert _refusal(token) == ("invalid_token", "algorithm_not_allowed")


# --- 3. a changed token ------------------------------------------------------------------------------


@pytest.mark.parametrize("configured", ["HS256", "RS256"])
def test_changed_payload_is_refused(request: pytest.FixtureRequest, configured: str) -> None:
    """Catches: a verifier that does not check the signature over the payload (an analyst promoting
    themself to admin by editing the claims and keeping the signature)."""
    if configured == "RS256":
        request.getfixturevalue("rs256")
    header, payload, signature = token_issue(role="analyst", sub="ana").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    tampered = f"{header}.{_b64url(json.dumps(claims).encode())}.{signature}"
    assert _refusal(tampered) == ("invalid_token", "signature")


def test_token_signed_with_another_secret_is_refused() -> None:
    """Catches: a verifier that does not check the signature against the configured key."""
    token = _sign(_claims(), key="another-key-that-is-long-enough-to-sign-hs256-tokens")
    assert _refusal(token) == ("invalid_token", "signature")


# --- 4. exp (with leeway), aud, iss ------------------------------------------------------------------


def _ago(seconds: int) -> int:
    return int((datetime.now(UTC) - timedelta(seconds=seconds)).timestamp())


def test_token_expired_longer_ago_than_the_leeway_is_refused(settings: Any) -> None:
    """Catches: no expiry check, or a leeway far larger than JWT_LEEWAY_SECONDS."""
    settings.JWT_LEEWAY_SECONDS = 30
    assert _refusal(_sign(_claims(exp=_ago(45)))) == ("token_expired", "expired")


def test_token_expired_within_the_leeway_is_accepted(settings: Any) -> None:
    """Catches: the documented 30 s leeway for clock skew not applied (tokens refused the moment a
    server's clock runs a little ahead of the issuer's)."""
    settings.JWT_LEEWAY_SECONDS = 30
    assert token_verify(_sign(_claims(exp=_ago(10), sub="skewed"))).subject == "skewed"


def test_leeway_is_the_setting(settings: Any) -> None:
    """Catches: a leeway hard-coded in the verifier instead of read from JWT_LEEWAY_SECONDS."""
    settings.JWT_LEEWAY_SECONDS = 0
    assert _refusal(_sign(_claims(exp=_ago(10)))) == ("token_expired", "expired")


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss", "sub", "role"])
def test_token_missing_a_required_claim_is_refused(claim: str) -> None:
    """Catches: a required claim dropped from the verifier's list (a token without `exp` never expires;
    one without `aud` / `iss` could be any service's token)."""
    assert _refusal(_sign(_claims(**{claim: None}))) == ("invalid_token", "missing_claim")


@pytest.mark.parametrize(
    "aud",
    ["someone-else", ["someone-else"], [django_settings.JWT_AUDIENCE, "another-service"]],
    ids=["other", "other-in-list", "ours-among-others"],
)
def test_token_for_another_audience_is_refused(aud: object) -> None:
    """Catches: no audience check, or one that accepts a token meant for several services at once."""
    assert _refusal(_sign(_claims(aud=aud))) == ("invalid_token", "audience")


def test_token_from_another_issuer_is_refused() -> None:
    """Catches: no issuer check (a token minted by another service sharing the key would pass)."""
    assert _refusal(_sign(_claims(iss="someone-else"))) == ("invalid_token", "issuer")


# --- 5. kid ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kid", "reason"),
    [("unknown-kid", "unknown_key"), (None, "unknown_key"), ("", "unknown_key"), (["a-list"], "malformed")],
    ids=["unknown", "missing", "empty", "list"],
)
def test_token_with_an_unknown_key_id_is_refused(kid: object, reason: str) -> None:
    """Catches: a verifier that falls back to the signing key when the kid names no key (or is absent, or
    not a string — which must be a 401, not a 500). The token is signed with the real key."""
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    token = _hand_signed(header, _claims(), django_settings.JWT_SIGNING_KEY.encode())
    assert _refusal(token) == ("invalid_token", reason)


# --- 6. rotation -------------------------------------------------------------------------------------


def test_tokens_of_the_old_and_new_hs256_key_are_both_valid_during_an_overlap(settings: Any) -> None:
    """Catches: JWT_KEYS ignored by the verifier (every token of the previous key refused the moment the
    signing key changes), or the signing key no longer verifying once JWT_KEYS is set."""
    settings.JWT_KEYS = {"hs-2025": JwtKey(alg="HS256", key=OLD_SECRET)}
    old = _sign(_claims(sub="old"), key=OLD_SECRET, kid="hs-2025")
    new = token_issue(role="admin", sub="new")
    assert jwt.get_unverified_header(new)["kid"] == django_settings.JWT_KEY_ID
    assert (token_verify(old).subject, token_verify(new).subject) == ("old", "new")


def test_an_rs256_signing_key_and_an_old_hs256_key_overlap(rs256: str, settings: Any) -> None:
    """Catches: rotation that cannot change algorithm (HS256 → RS256): each key keeps its own algorithm."""
    settings.JWT_KEYS = {"hs-2025": JwtKey(alg="HS256", key=OLD_SECRET)}
    old = _sign(_claims(sub="old"), key=OLD_SECRET, kid="hs-2025")
    new = token_issue(role="admin", sub="new")
    assert (token_verify(old).subject, token_verify(new).subject) == ("old", "new")


def test_an_old_rs256_public_key_verifies_its_tokens(settings: Any) -> None:
    """Catches: PEM public keys in JWT_KEYS not usable for verification."""
    old_private, old_public = _rsa_pair("old")
    settings.JWT_KEYS = {"rs-2025": JwtKey(alg="RS256", key=old_public)}
    assert token_verify(_sign(_claims(sub="old-rs"), key=old_private, kid="rs-2025", alg="RS256")).subject == "old-rs"


@pytest.mark.parametrize(
    ("key", "kid"),
    [(OLD_SECRET, "current"), (None, "hs-2025")],
    ids=["old-key-under-current-kid", "current-key-under-old-kid"],
)
def test_verification_uses_the_key_the_kid_names_only(settings: Any, key: str | None, kid: str) -> None:
    """Catches: a verifier that tries every known key (a token is valid only under the key its kid names;
    trying all keys also lets a retired key's holder pick any kid)."""
    settings.JWT_KEYS = {"hs-2025": JwtKey(alg="HS256", key=OLD_SECRET)}
    token = _sign(_claims(), key=key, kid=django_settings.JWT_KEY_ID if kid == "current" else kid)
    assert _refusal(token) == ("invalid_token", "signature")


def test_a_key_removed_from_jwt_keys_no_longer_verifies(settings: Any) -> None:
    """Catches: keys cached beyond the configuration (the end of an overlap must really retire a key)."""
    settings.JWT_KEYS = {"hs-2025": JwtKey(alg="HS256", key=OLD_SECRET)}
    old = _sign(_claims(), key=OLD_SECRET, kid="hs-2025")
    token_verify(old)
    settings.JWT_KEYS = {}
    assert _refusal(old) == ("invalid_token", "unknown_key")


# --- roles -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["superuser", "host"], ids=["unknown-role", "host-without-host-id"])
def test_tokens_with_a_bad_role_are_refused(role: str) -> None:
    """Catches: unknown roles let through, or host tokens without the host_id that scopes them. (The
    claims are made when the test runs: made at collection, they expired before a long run reached it.)"""
    assert _refusal(_sign(_claims(role=role))) == ("invalid_token", "role")


def test_garbage_is_refused_as_malformed() -> None:
    """Catches: a non-JWT bearer value raising something other than a 401."""
    assert _refusal("not-a-jwt") == ("invalid_token", "malformed")


# --- over HTTP ---------------------------------------------------------------------------------------


def test_read_routes_answer_401_without_credentials(client: TestClient) -> None:
    """Catches: a read route reachable without a token."""
    response = client.get(ADMIN_ROUTE)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"
    assert response.headers["www-authenticate"] == "Bearer"


def test_refused_token_answers_401_with_its_reason(client: TestClient) -> None:
    """Catches: token refusals leaving the API as anything but 401 in the error shape, without the reason."""
    token = _sign(_claims(), kid="unknown-kid")
    response = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response.json()["error"]["details"] == {"reason": "unknown_key"}


def test_admin_route_answers_403_to_an_analyst(client: TestClient) -> None:
    """Catches: an admin-only route letting analysts in."""
    token = token_issue(role="analyst", sub="ana")
    response = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_role"


def test_admin_route_answers_200_to_an_admin(client: TestClient, admin_headers: dict[str, str]) -> None:
    """Catches: admin tokens refused on admin routes."""
    response = client.get(ADMIN_ROUTE, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_write_key_is_not_a_read_token(client: TestClient, write_key: str) -> None:
    """Catches: an ingestion write key accepted as a read-API bearer token."""
    response = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {write_key}"})
    assert response.status_code == 401


# --- manage.py issue_token ---------------------------------------------------------------------------


def _test_database_env() -> dict[str, str]:
    """The environment of a `manage.py` subprocess that uses this test run's database."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{django_settings.DATABASES['default']['NAME']}"}


def test_issue_token_command_prints_only_a_token_the_server_accepts(client: TestClient) -> None:
    """Catches: `issue_token` and the server deriving different development keys (DEBUG on, no JWT key),
    or the command printing anything beside the token."""
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
    """Catches: the command printing a host token without host_id."""
    result = subprocess.run(
        [sys.executable, "manage.py", "issue_token", "--role", "host"],
        capture_output=True,
        text=True,
        env=_test_database_env(),
        timeout=60,
    )
    assert result.returncode != 0
    assert "host-id" in result.stderr


@pytest.mark.parametrize("minutes", [MAX_TTL_MINUTES + 1, 10**12])
def test_a_token_lives_at_most_thirty_days(minutes: int) -> None:
    """Catches: `issue_token --ttl-minutes` minting a token that never expires in practice (or a traceback
    for a lifetime past the calendar's end instead of a clear refusal)."""
    with pytest.raises(ValidationFailed, match="at most 43200"):
        token_issue(role="admin", sub="ops", ttl_minutes=minutes)
    claims = jwt.decode(
        token_issue(role="admin", sub="ops", ttl_minutes=MAX_TTL_MINUTES), options={"verify_signature": False}
    )
    assert claims["exp"] - claims["iat"] == MAX_TTL_MINUTES * 60
