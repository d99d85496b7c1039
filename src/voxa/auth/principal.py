"""Who is calling, as established from verified credentials only."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from voxa.domain import Role


class PrincipalKind(StrEnum):
    """The roles that log in with an account (a subset of ``Role``)."""

    owner = "owner"
    general = "general"


@dataclass(frozen=True, slots=True)
class AccountToken:
    """What identifies one issued account token, for revocation."""

    jti: str
    version: int  # the profile's token_version when it was issued
    expires_at: int  # unix seconds
    via_cookie: bool = False  # presented as the pages' session cookie


@dataclass(frozen=True, slots=True)
class AccountPrincipal:
    """A logged-in owner or general user (bearer token or session cookie)."""

    user_id: str
    kind: PrincipalKind  # owner | general
    business_id: str | None
    # Not part of who the caller is, so principals compare by identity alone.
    token: AccountToken | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """The bearer of one session's ``session_token``."""

    session_id: str
    user_id: str
    role: Role
    business_id: str | None


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    """The operator (``VOXA_OPERATOR_TOKEN``)."""


Principal = AccountPrincipal | SessionPrincipal | OperatorPrincipal
