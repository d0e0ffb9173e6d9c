"""Client IPs: found, then truncated before anything else sees them. The full IP is never kept."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from functools import lru_cache


@lru_cache(maxsize=65536)
def truncate_ip(value: str) -> str:
    """`203.0.113.77` → `203.0.113.0/24`, `2001:db8:1:2::5` → `2001:db8:1::/48`; '' if not an IP."""
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
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


def client_ip_prefix(*, peer: str | None, headers: Mapping[str, str], trusted_proxies: Sequence[str]) -> str:
    """The truncated client IP: the connection's peer, or `X-Forwarded-For` when the peer is trusted.

    With a trusted peer the right-most address that is not itself a trusted proxy is the client.
    """
    client = peer or ""
    if client and trusted_proxies and _in_trusted(client, trusted_proxies):
        forwarded = headers.get("x-forwarded-for", "")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            client = hop
            if not _in_trusted(hop, trusted_proxies):
                break
    return truncate_ip(client) if client else ""
