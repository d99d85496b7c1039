"""Owner-written texts (greetings, instructions) are data, never format strings.

``{name}`` and ``{business}`` are filled in by a literal scan; ``{{`` and ``}}``
stand for literal braces. Nothing else is interpreted: no format specs,
conversions, attribute or index lookups, so a text can neither raise nor grow
beyond its own length plus one copy of a value per placeholder.

``problems`` is the save-time check (the API refuses a text it reports);
``render`` is total, and shows anything it does not understand literally, so a
text stored before the check existed still renders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS = ("name", "business")

# One token at a time: an escaped brace, a {...} group without nested braces, or a lone brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")
# What a placeholder inside a problem message is cut to (the message echoes owner text).
_SHOWN = 40


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with ``{key}`` replaced for the keys in ``PLACEHOLDERS``.

    Unknown or malformed groups and unbalanced braces are kept as written."""
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(template):
        out.append(template[pos:m.start()])
        token = m.group()
        if token in ("{{", "}}"):
            out.append(token[0])
        elif token[1:-1] in PLACEHOLDERS and token[1:-1] in values:
            out.append(values[token[1:-1]])
        else:
            out.append(token)
        pos = m.end()
    out.append(template[pos:])
    return "".join(out)


def problems(template: str) -> list[str]:
    """Why ``template`` would not render as its author expects (empty: it is fine)."""
    found: list[str] = []
    for m in _TOKEN.finditer(template):
        token = m.group()
        if token in ("{{", "}}") or token[1:-1] in PLACEHOLDERS:
            continue
        if token == "{":
            found.append("unbalanced '{' (write '{{' for a literal brace)")
        elif token == "}":
            found.append("unbalanced '}' (write '}}' for a literal brace)")
        else:
            shown = token if len(token) <= _SHOWN else token[:_SHOWN] + "…"
            found.append(f"unknown placeholder {shown} (only {{name}} and {{business}} "
                         "are filled in; write '{{' and '}}' for literal braces)")
    return found


def check(template: str) -> str:
    """``template`` unchanged, or ValueError naming its first problem (pydantic validator)."""
    if found := problems(template):
        raise ValueError(found[0])
    return template
