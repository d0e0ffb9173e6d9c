"""JWT key configuration: JWT_KEYS is parsed strictly and a bad key (there, or in JWT_PUBLIC_KEY /
JWT_PRIVATE_KEY) refuses to start with a message naming it (docs/operations.md, "Tokens and keys")."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from analytics.security.jwt_keys import JwtKey, jwt_keys_parse

ROOT = Path(__file__).resolve().parents[3]
STRONG = "a-production-secret-that-is-long-and-random-8f3a9c1d2e7b"
OLD_SECRET = "the-previous-hs256-secret-still-valid-for-an-overlap-0f3e"


@functools.cache
def _rsa_pems(bits: int = 2048) -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


def _ec_public_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_valid_jwt_keys_parse_into_one_key_and_algorithm_each() -> None:
    """Catches: JWT_KEYS entries lost or given another algorithm than the one configured."""
    _, public = _rsa_pems()
    escaped = public.strip().replace("\n", "\\n")  # a PEM written with literal \n in an env file
    keys = jwt_keys_parse(
        json.dumps({"hs-2025": {"alg": "HS256", "key": OLD_SECRET}, "rs-2025": {"alg": "RS256", "key": escaped}})
    )
    assert keys == {"hs-2025": JwtKey("HS256", OLD_SECRET), "rs-2025": JwtKey("RS256", public.strip())}


def test_empty_jwt_keys_means_no_extra_keys() -> None:
    """Catches: an unset JWT_KEYS refusing to start."""
    assert jwt_keys_parse("") == {} and jwt_keys_parse("  ") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not JSON"),
        ('["hs", "secret"]', "must be a JSON object"),
        ('{"": {"alg": "HS256", "key": "x"}}', "empty key id"),
        ('{"k": "a-bare-secret"}', 'exactly "alg" and "key"'),
        ('{"k": {"key": "a-secret"}}', 'exactly "alg" and "key"'),
        ('{"k": {"alg": "HS256", "key": "s", "use": "sig"}}', 'exactly "alg" and "key"'),
        ('{"k": {"alg": "none", "key": ""}}', "alg must be one of HS256, RS256"),
        ('{"k": {"alg": "HS512", "key": "a-secret"}}', "alg must be one of HS256, RS256"),
        ('{"k": {"alg": "HS256", "key": ""}}', "non-empty string"),
        ('{"k": {"alg": "HS256", "key": 42}}', "non-empty string"),
        ('{"k": {"alg": "RS256", "key": "not a pem"}}', "is not a PEM public key"),
    ],
    ids=[
        "not-json",
        "not-object",
        "empty-kid",
        "bare-string",
        "no-alg",
        "extra-member",
        "alg-none",
        "unsupported-alg",
        "empty-key",
        "key-not-string",
        "rs256-not-pem",
    ],
)
def test_invalid_jwt_keys_are_refused_with_a_message_naming_the_problem(text: str, message: str) -> None:
    """Catches: a malformed JWT_KEYS accepted (a key silently missing, or with no known algorithm)."""
    with pytest.raises(ValueError, match=message):
        jwt_keys_parse(text)


def test_a_public_key_is_refused_as_an_hs256_secret() -> None:
    """Catches: an operator configuring a PEM public key as an HMAC secret — the algorithm-confusion
    attack made into configuration (anyone holding the public key could sign)."""
    _, public = _rsa_pems()
    with pytest.raises(ValueError, match="'k' \\(HS256\\) is a PEM key"):
        jwt_keys_parse(json.dumps({"k": {"alg": "HS256", "key": public}}))


@pytest.mark.parametrize(
    ("pem_factory", "message"),
    [
        (lambda: _rsa_pems()[0], "is not a PEM public key"),
        (_ec_public_pem, "is not an RSA public key"),
        (lambda: _rsa_pems(1024)[1], "is a 1024-bit RSA key"),
    ],
    ids=["private-key", "ec-key", "short-rsa"],
)
def test_an_rs256_key_must_be_an_rsa_public_key_of_2048_bits(pem_factory: object, message: str) -> None:
    """Catches: RS256 keys that cannot verify RS256 (a private key, another key type) or are too short."""
    with pytest.raises(ValueError, match=message):
        jwt_keys_parse(json.dumps({"k": {"alg": "RS256", "key": pem_factory()}}))  # type: ignore[operator]


# --- the service refuses to start ----------------------------------------------------------------------


_PRINT_JWT_KEYS = "import django; django.setup(); from django.conf import settings; print(settings.JWT_KEYS)"


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    """Load the service's settings in a fresh interpreter with `env` (over a clean JWT environment)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JWT_") and k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "-c", _PRINT_JWT_KEYS],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "loopin_backend.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_service_starts_with_valid_jwt_keys() -> None:
    """Catches: a valid JWT_KEYS (HS256 and RS256 entries) refused at start in production mode."""
    _, public = _rsa_pems()
    jwt_keys = json.dumps({"hs-2025": {"alg": "HS256", "key": OLD_SECRET}, "rs-2025": {"alg": "RS256", "key": public}})
    result = _start(DEBUG="false", SECRET_KEY=STRONG, JWT_SECRET_KEY=STRONG + "-jwt", JWT_KEYS=jwt_keys)
    assert result.returncode == 0, result.stderr
    assert "hs-2025" in result.stdout and "rs-2025" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_KEYS": "{not json"}, "JWT_KEYS is not JSON"),
        ({"JWT_KEYS": '{"k": {"alg": "RS256", "key": "nope"}}'}, "JWT_KEYS key 'k' (RS256) is not a PEM public key"),
        (
            {"JWT_KEY_ID": "current", "JWT_KEYS": json.dumps({"current": {"alg": "HS256", "key": OLD_SECRET}})},
            "JWT_KEYS names the signing key's id 'current'",
        ),
        ({"JWT_KEYS": '{"k": {"alg": "HS256", "key": "changeme"}}'}, "JWT_KEYS key 'k' is a development or weak key"),
    ],
    ids=["not-json", "bad-pem", "kid-of-the-signing-key", "weak-secret"],
)
def test_invalid_jwt_keys_refuse_to_start(env: dict[str, str], message: str) -> None:
    """Catches: the service starting with a JWT_KEYS it cannot use (or one that shadows the signing key),
    or without saying what is wrong."""
    result = _start(DEBUG="false", SECRET_KEY=STRONG, JWT_SECRET_KEY=STRONG + "-jwt", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (lambda: {"JWT_PUBLIC_KEY": "not a pem"}, "JWT_PUBLIC_KEY is not a PEM public key"),
        (
            lambda: {"JWT_PUBLIC_KEY": _rsa_pems()[1], "JWT_PRIVATE_KEY": _rsa_pems(3072)[0]},
            "JWT_PRIVATE_KEY is not the private key of JWT_PUBLIC_KEY",
        ),
        (lambda: {"JWT_SECRET_KEY": _rsa_pems()[1], "JWT_ALGORITHM": "HS256"}, "JWT_SECRET_KEY is a PEM key"),
    ],
    ids=["public-not-pem", "pair-mismatch", "pem-as-hmac-secret"],
)
def test_unusable_signing_keys_refuse_to_start(keys: object, message: str) -> None:
    """Catches: an RS256 configuration that could never verify (or sign tokens it then refuses), and a
    public key configured as the HS256 secret."""
    env = {"JWT_ALGORITHM": "RS256", **keys()}  # type: ignore[operator]
    result = _start(DEBUG="true", SECRET_KEY=STRONG, **env)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_an_rs256_key_pair_starts_and_keeps_its_public_key_as_written() -> None:
    """Catches: a matching RS256 pair (with `\\n` escapes, as in an env file) refused at start."""
    private, public = _rsa_pems()
    result = _start(
        DEBUG="false",
        SECRET_KEY=STRONG,
        JWT_ALGORITHM="RS256",
        JWT_PRIVATE_KEY=private.replace("\n", "\\n"),
        JWT_PUBLIC_KEY=public.replace("\n", "\\n"),
    )
    assert result.returncode == 0, result.stderr
