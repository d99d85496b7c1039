"""Business slug rules. The room-name parse relies on them."""

from __future__ import annotations

import re

from voxa.errors import InvalidInput

SLUG_RE = re.compile(r"[a-z0-9](?:-?[a-z0-9])*")
SLUG_MIN, SLUG_MAX = 3, 40
RESERVED = frozenset({"general"})


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` is not a valid business slug, or None when it is."""
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return f"slug must be {SLUG_MIN}-{SLUG_MAX} characters"
    if not SLUG_RE.fullmatch(slug):
        return "slug may contain only a-z, 0-9 and single inner hyphens"
    if slug in RESERVED:
        return f"slug {slug!r} is reserved"
    if slug.startswith("owner"):
        return "slug may not start with 'owner'"
    return None


def is_valid_slug(slug: str) -> bool:
    return slug_problem(slug) is None


def validate_slug(slug: str) -> str:
    problem = slug_problem(slug)
    if problem:
        raise InvalidInput(problem, code="invalid_slug")
    return slug
