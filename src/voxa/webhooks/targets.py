"""Where a webhook may be sent. A business's URL must not reach the operator's
own network: loopback, private, link-local (cloud metadata), multicast and
reserved addresses are refused when the endpoint is registered AND each time it
is sent to — the resolver below vets every address the host resolves to and
the connection uses only those, so a name that re-resolves to 127.0.0.1 later
(DNS rebinding) is refused too. ``webhooks_allow_private`` lifts both rules.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from voxa.errors import InvalidInput

MAX_URL_LENGTH = 2000


class UnsafeTarget(InvalidInput):
    code = "unsafe_webhook_target"


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """``url`` if it may be registered (syntax and, for IP literals, the address)."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise InvalidInput("the webhook URL is empty, too long or has spaces",
                           code="invalid_webhook_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput("the webhook URL does not parse", code="invalid_webhook_url") from exc
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeTarget("webhook URLs must use https")
    if not parts.hostname or parts.username is not None or parts.password is not None \
            or parts.fragment or port == 0:
        raise InvalidInput("the webhook URL needs a host and no credentials or fragment",
                           code="invalid_webhook_url")
    if not allow_private:
        host = parts.hostname.rstrip(".").lower()
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise UnsafeTarget("webhook targets on the local network are not allowed")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not is_public(str(literal)):
            raise UnsafeTarget("webhook targets on private or loopback addresses are not allowed")
    return url


class PublicOnlyResolver(AbstractResolver):
    """Resolves through the system resolver and refuses the whole answer if any
    address is not public (an attacker's name may mix a public and a private one)."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if not is_public(result["host"]):
                raise UnsafeTarget(f"{host} resolves to a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()


def resolver(*, allow_private: bool) -> Any:
    return ThreadedResolver() if allow_private else PublicOnlyResolver()
