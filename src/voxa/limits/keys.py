"""Limit keys: namespaced by the limit's name, the identifying parts hashed.

Whatever a client sends (an e-mail with colons, newlines, a megabyte of
unicode), the key is ``<name>:<32 hex digits>``: bounded, printable, and no
value can reach into another limit's or another client's key.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re

from voxa.identity import normalize_email

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}:[0-9a-f]{32}$")


def limit_key(name: str, *parts: str) -> str:
    """The key of ``parts`` under the limit ``name`` (a fixed identifier)."""
    if not _NAME.match(name):
        raise ValueError(f"not a limit name: {name!r}")
    # A JSON array of strings is an injective encoding of the tuple (no
    # separator a part could contain), ASCII-only, so hashing it cannot collide
    # short of SHA-256 collisions.
    encoded = json.dumps(list(parts), ensure_ascii=True).encode("ascii")
    return f"{name}:{hashlib.sha256(encoded).hexdigest()[:32]}"


def email_part(email: str) -> str:
    """Case and surrounding space do not make another account."""
    return "email:" + normalize_email(email)


def address_part(address: str) -> str:
    """One IPv4 address, or one IPv6 /64 (what one subscriber usually holds:
    rotating addresses inside it does not buy a fresh budget)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "addr:?" + address[:200]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return "addr:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return "addr:" + str(mapped or ip)
