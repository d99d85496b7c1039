"""The limits that exist, their defaults (settings) and per-business overrides.

A business's ``limits`` column may override only the limits that are about
that business (its sessions, its customers' turns, tickets and memories, its
share of the model); login and signup limits are the operator's alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem, parse_many

from voxa.settings import Settings

RATES = (
    "login_per_account", "login_per_address", "signup_per_address",
    "session_starts_per_address", "session_starts_per_business",
    "turns_per_session", "turns_per_customer", "tickets_per_user", "memories_per_user",
    "knowledge_uploads_per_business",
)
COUNTS = (
    "active_sessions_per_business", "voice_sessions_per_business",
    "model_slots_per_business",
)
PER_BUSINESS = frozenset({
    "session_starts_per_address", "session_starts_per_business", "turns_per_session",
    "turns_per_customer", "tickets_per_user", "memories_per_user",
    "knowledge_uploads_per_business", *COUNTS,
})
MAX_COUNT = 100_000


def default(settings: Settings, name: str) -> Any:
    return getattr(settings, f"limit_{name}")


def rate(settings: Settings, name: str, overrides: Mapping[str, Any] | None = None
         ) -> list[RateLimitItem]:
    """The rate tiers of ``name`` for a business with ``overrides``."""
    value = (overrides or {}).get(name) if name in PER_BUSINESS else None
    return parse_many(str(value if value is not None else default(settings, name)))


def count(settings: Settings, name: str, overrides: Mapping[str, Any] | None = None) -> int:
    value = (overrides or {}).get(name) if name in PER_BUSINESS else None
    return int(value if value is not None else default(settings, name))


def validate_overrides(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Checked overrides (``None`` removes one); ``ValueError`` names the bad one."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in PER_BUSINESS:
            allowed = ", ".join(sorted(PER_BUSINESS))
            raise ValueError(f"unknown per-business limit {name!r}; one of: {allowed}")
        if value is None:
            out[name] = None
        elif name in COUNTS:
            if isinstance(value, bool) or not isinstance(value, int) or not (
                    0 < value <= MAX_COUNT):
                raise ValueError(f"{name} must be an integer from 1 to {MAX_COUNT}")
            out[name] = value
        else:
            if not isinstance(value, str) or len(value) > 100:
                raise ValueError(f"{name} must be a rate such as '30/minute'")
            try:
                items = parse_many(value)
            except ValueError as exc:
                raise ValueError(f"{name} must be a rate such as '30/minute'") from exc
            if not items or any(i.amount <= 0 for i in items):
                raise ValueError(f"{name} must allow at least one request")
            out[name] = value
    return out


def effective(settings: Settings, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every per-business limit as it applies to one business."""
    return {name: (overrides or {}).get(name, default(settings, name))
            for name in sorted(PER_BUSINESS)}
