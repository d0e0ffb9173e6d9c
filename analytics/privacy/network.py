"""Client IPs: found, then truncated before anything else sees them. The full IP is never kept."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence

_IPV4_MAPPED = bytes(10) + b"\xff\xff"  # ::ffff:a.b.c.d


def truncate_ip(value: str) -> str:
    """`203.0.113.77` → `203.0.113.0/24`, `2001:db8:1:2::5` → `2001:db8:1::/48`; '' if not an IP.

    Runs once per tracked event, so the usual forms go through the C parser and printer (a tenth
    of `ipaddress`'s cost, same results); the rest (e.g. a zone id) through `ipaddress`.
    """
    text = value.strip().strip("[]")
    try:
        packed = socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except (OSError, ValueError):
        return _truncate_other(text)
    if packed[:12] == _IPV4_MAPPED:
        packed = packed[12:]
    if len(packed) == 4:
        return f"{packed[0]}.{packed[1]}.{packed[2]}.0/24"
    return socket.inet_ntop(socket.AF_INET6, packed[:6] + bytes(10)) + "/48"


def _truncate_other(text: str) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _in_trusted(peer: str, trusted: Sequence[str]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def is_trusted_proxy(peer: str, trusted_proxies: Sequence[str]) -> bool:
    """The connection's peer is one of `ANALYTICS_TRUSTED_PROXIES` (whose forwarding headers are believed)."""
    return bool(trusted_proxies) and _in_trusted(peer, trusted_proxies)


def client_ip(*, peer: str | None, headers: Mapping[str, str], trusted_proxies: Sequence[str]) -> str:
    """The client's full IP, for access decisions only (never stored): the connection's peer, or
    `X-Forwarded-For` when the peer is trusted. With a trusted peer the right-most address that is not
    itself a trusted proxy is the client."""
    client = peer or ""
    if client and trusted_proxies and _in_trusted(client, trusted_proxies):
        forwarded = headers.get("x-forwarded-for", "")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            client = hop
            if not _in_trusted(hop, trusted_proxies):
                break
    return client


def client_ip_prefix(*, peer: str | None, headers: Mapping[str, str], trusted_proxies: Sequence[str]) -> str:
    """The truncated client IP (`client_ip`, then `truncate_ip`)."""
    client = client_ip(peer=peer, headers=headers, trusted_proxies=trusted_proxies)
    return truncate_ip(client) if client else ""
