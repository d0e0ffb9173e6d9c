"""What a JWT verification key is, and the `JWT_KEYS` setting that adds verification-only keys.

Every key is used with exactly one algorithm (RFC 8725, 3.1): `HS256` with a shared secret or
`RS256` with a PEM public key. The algorithm belongs to the key, never to the token: the verifier
looks the key up by the token's `kid` and requires the token's `alg` to be the key's own.

`JWT_KEYS` is a JSON object mapping each key id to `{"alg": "HS256" | "RS256", "key": "..."}`;
its keys verify tokens but never sign them (docs/operations.md, "Tokens and keys").

This module imports no Django: `loopin_backend/settings.py` uses it to refuse a bad key at start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, cast, get_args

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

Algorithm = Literal["HS256", "RS256"]
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
MIN_RSA_BITS = 2048  # RFC 7518, 3.3


@dataclass(frozen=True)
class JwtKey:
    """One verification key and the one algorithm it is used with."""

    alg: Algorithm
    key: str  # HS256: the shared secret; RS256: the PEM public key


def rsa_public_key_check(pem: str) -> RSAPublicKey:
    """The RSA public key of `pem`, or ValueError saying what is wrong with it."""
    try:
        loaded = load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ValueError("is not a PEM public key (-----BEGIN PUBLIC KEY-----)") from exc
    if not isinstance(loaded, RSAPublicKey):
        raise ValueError("is not an RSA public key")
    if loaded.key_size < MIN_RSA_BITS:
        raise ValueError(f"is a {loaded.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are needed")
    return loaded


def rsa_key_pair_check(private_pem: str, public_pem: str) -> None:
    """ValueError unless `private_pem` is the RSA private key of `public_pem`."""
    public = rsa_public_key_check(public_pem)
    try:
        private = load_pem_private_key(private_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("JWT_PRIVATE_KEY is not an unencrypted PEM private key") from exc
    if not isinstance(private, RSAPrivateKey) or private.public_key().public_numbers() != public.public_numbers():
        raise ValueError("JWT_PRIVATE_KEY is not the private key of JWT_PUBLIC_KEY")


def hmac_secret_check(secret: str) -> None:
    """ValueError if `secret` is a public key: a known key must never be an HMAC secret."""
    if "-----BEGIN" in secret:
        raise ValueError("is a PEM key; an HS256 key is a shared secret (a public key is no secret)")


def jwt_keys_parse(text: str) -> dict[str, JwtKey]:
    """The verification-only keys of `JWT_KEYS` (JSON), or ValueError naming the bad entry.

    (Production's rule against weak HS256 secrets is applied by the settings, as to `JWT_SECRET_KEY`.)
    """
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f'is not JSON ({exc.msg}); expected {{"<kid>": {{"alg": "HS256", "key": "..."}}}}') from exc
    if not isinstance(raw, dict):
        raise ValueError('must be a JSON object mapping each key id to {"alg": ..., "key": ...}')
    keys: dict[str, JwtKey] = {}
    for kid, entry in raw.items():
        if not kid.strip():
            raise ValueError("has an empty key id")
        if not isinstance(entry, dict) or set(entry) != {"alg", "key"}:
            raise ValueError(f'key {kid!r} must be an object with exactly "alg" and "key"')
        alg, key = entry["alg"], entry["key"]
        if alg not in ALGORITHMS:
            raise ValueError(f"key {kid!r}: alg must be one of {', '.join(ALGORITHMS)}, not {alg!r}")
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"key {kid!r}: key must be a non-empty string")
        try:
            if alg == "RS256":
                key = key.replace("\\n", "\n").strip()
                rsa_public_key_check(key)
            else:
                hmac_secret_check(key)
        except ValueError as exc:
            raise ValueError(f"key {kid!r} ({alg}) {exc}") from exc
        keys[kid] = JwtKey(alg=cast(Algorithm, alg), key=key)
    return keys
