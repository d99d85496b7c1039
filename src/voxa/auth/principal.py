"""Who is calling, as established from verified credentials only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    owner = "owner"
    general = "general"


@dataclass(frozen=True, slots=True)
class AccountPrincipal:
    """A logged-in owner or general user (bearer token)."""

    user_id: str
    kind: PrincipalKind  # owner | general
    business_id: str | None


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """The bearer of one session's ``session_token``."""

    session_id: str
    user_id: str
    role: str
    business_id: str | None


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    """The operator (``VOXA_OPERATOR_TOKEN``)."""


Principal = AccountPrincipal | SessionPrincipal | OperatorPrincipal
