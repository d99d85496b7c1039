"""Who may do what with a session. One function decides; routes never
re-check ownership themselves."""

from __future__ import annotations

from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.auth.principal import (
    AccountPrincipal,
    OperatorPrincipal,
    Principal,
    PrincipalKind,
    SessionPrincipal,
)
from voxa.errors import Forbidden, NotFound, Unauthenticated
from voxa.sessions.ids import validate_session_id
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope


class Access(Enum):
    READ = "read"  # holder, owner of its business, operator
    END = "end"  # same as READ
    HOLD = "hold"  # the holder only: send messages, change config, resume


def tenant_scope(principal: Principal) -> Scope:
    """The tenant whose rows ``principal``'s requests may touch at all (the
    database's row-level security; the narrower checks below still apply)."""
    if isinstance(principal, OperatorPrincipal):
        return Scope.system()
    return Scope.user(principal.user_id, principal.business_id)


def holder_scope(principal: Principal, session_id: str) -> Scope | None:
    """The scope under which ``principal`` holds ``session_id``, if any."""
    if isinstance(principal, SessionPrincipal):
        if principal.session_id != session_id:
            return None
        return Scope.user(principal.user_id, principal.business_id)
    if isinstance(principal, AccountPrincipal):
        return Scope.user(principal.user_id, principal.business_id)
    return None


def reader_scope(principal: Principal, session_id: str) -> Scope | None:
    """The widest scope under which ``principal`` may read ``session_id``."""
    if isinstance(principal, OperatorPrincipal):
        return Scope.system()
    if isinstance(principal, AccountPrincipal) and principal.kind is PrincipalKind.owner:
        assert principal.business_id is not None
        return Scope.business(principal.business_id)
    return holder_scope(principal, session_id)


async def load_session(
    db: AsyncSession, session_id: str, principal: Principal | None, access: Access
) -> AgentSession:
    """The session if ``principal`` may ``access`` it; 401/403/404 otherwise.

    Sessions outside the principal's reach are reported as not found, so ids
    of other tenants' sessions are not confirmed.
    """
    validate_session_id(session_id)
    if principal is None:
        raise Unauthenticated("this endpoint needs a bearer token")
    scope = holder_scope(principal, session_id) if access is Access.HOLD else None
    read = reader_scope(principal, session_id)
    row = await sessions_repo.get(db, session_id, scope=scope) if scope else None
    if row is not None:
        return row
    if read is not None:
        row = await sessions_repo.get(db, session_id, scope=read)
        if row is not None and access is not Access.HOLD:
            return row
        if row is not None:
            raise Forbidden("only the session's holder may do this", code="not_session_holder")
    raise NotFound("session not found", code="session_not_found")
