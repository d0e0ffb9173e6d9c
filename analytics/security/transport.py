"""Encryption in transit (docs/operations.md, "TLS in transit"): which configured connection would send a
password in clear to another machine.

PostgreSQL is protected by `sslmode=require` (or `verify-ca` / `verify-full`) in DATABASE_URL, Redis by the
`rediss://` scheme, RabbitMQ by `amqps://`, SMTP by EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL. Loopback
hosts are exempt (nothing crosses a network). Production refuses to start on any finding unless
ANALYTICS_ALLOW_CLEARTEXT_CREDENTIALS says the network is private and trusted (a compose network)."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs, urlsplit

TLS_SCHEMES = frozenset({"rediss", "amqps", "sqlite"})
SAFE_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})


def is_loopback(host: str | None) -> bool:
    if not host or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cleartext_url(name: str, url: str) -> str | None:
    """A finding when `url` carries a password to another machine without TLS, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.password or parts.scheme in TLS_SCHEMES or is_loopback(parts.hostname):
        return None
    if parts.scheme.startswith("postgres"):
        if parse_qs(parts.query).get("sslmode", [""])[0] in SAFE_SSLMODES:
            return None
        return f"{name} sends its password to {parts.hostname} without TLS: add ?sslmode=require (or verify-full)"
    return f"{name} sends its password to {parts.hostname} without TLS: use {parts.scheme}s:// (TLS)"


def cleartext_credentials(
    *, urls: dict[str, str], email_host: str, email_password: str, email_tls: bool, email_ssl: bool
) -> list[str]:
    """Every configured connection that would send a password in clear to another machine."""
    found = [finding for name, url in urls.items() if (finding := cleartext_url(name, url))]
    if email_password and not (email_tls or email_ssl) and not is_loopback(email_host):
        found.append(f"EMAIL_HOST_PASSWORD would go to {email_host} without TLS: set EMAIL_USE_TLS (or EMAIL_USE_SSL)")
    return found
