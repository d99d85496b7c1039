"""Site origins a business allows to frame its customer chat (the widget).

An origin goes verbatim into a ``Content-Security-Policy: frame-ancestors``
header, so only the plain ``http(s)://host[:port]`` form is accepted: no path,
query, fragment, user info, wildcard, quote, space or semicolon can reach it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_ORIGINS = 20
MAX_ORIGIN_CHARS = 200

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"^(https?)://({_LABEL}(?:\.{_LABEL})*)(?::([0-9]{{1,5}}))?/?$")


def parse_origin(value: str) -> str:
    """``value`` as a lowercase origin; ``ValueError`` when it is anything else."""
    if len(value) > MAX_ORIGIN_CHARS:
        raise ValueError(f"an origin has at most {MAX_ORIGIN_CHARS} characters")
    match = _ORIGIN.match(value.strip().lower())
    if match is None:
        raise ValueError(
            "an origin is http(s)://host[:port] only: no path, query, fragment, "
            "user name, wildcard or spaces (e.g. https://shop.example.com)")
    scheme, host, port = match.groups()
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError("the port must be between 1 and 65535")
    return f"{scheme}://{host}" + (f":{int(port)}" if port else "")


def parse_origins(values: Iterable[str]) -> list[str]:
    """Each origin parsed, duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(parse_origin(value), None)
    if len(seen) > MAX_ORIGINS:
        raise ValueError(f"at most {MAX_ORIGINS} origins")
    return list(seen)


def valid_origins(values: Iterable[object]) -> list[str]:
    """The valid origins among stored ``values`` (anything else is left out):
    a second check before a stored value becomes a header."""
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            try:
                out.append(parse_origin(value))
            except ValueError:
                continue
    return out[:MAX_ORIGINS]
