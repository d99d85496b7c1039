"""The client's address, one function for every limit.

The socket's peer, unless that peer is a configured trusted proxy: then the
rightmost ``X-Forwarded-For`` hop that is not itself a trusted proxy (hops to
its left were written by the client and prove nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(value: str, networks: tuple[Network, ...]) -> bool:
    ip = _ip(value)
    return ip is not None and any(ip in n for n in networks)


def client_address(conn: HTTPConnection, trusted_proxies: Sequence[str]) -> str:
    peer = conn.client.host if conn.client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for value in conn.headers.getlist("x-forwarded-for")
            for h in value.split(",")]
    for hop in reversed(hops):
        if not hop:
            continue
        if not _trusted(hop, networks):
            # Not an address at all: its own bucket (never the proxy's, which
            # would throttle everyone behind it).
            return hop[:64]
    return peer
