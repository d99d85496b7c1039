"""Whose rows a database transaction may touch: PostgreSQL row-level security.

The application's scope checks (``Scope.where`` in every repository query) are
the first wall; migration 0005's RLS policies are the second. They read two
per-transaction settings that ``TenantSession`` writes as each transaction
begins, from the scope bound to the running request or task:

- ``bind_db_scope``/``db_scope`` bind it explicitly (a request binds its
  principal's tenant, a session start the business it starts in, operator jobs
  ``Scope.system()``);
- otherwise a voice job's ``SessionContext`` (``voxa.context``) gives its session's tenant;
- otherwise nothing is bound and the transaction sees no tenant rows at all.

Binding happens once per request or task, not per query, so no query can
forget it; a forgotten binding fails closed. SQLite has no RLS and is left alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from voxa.context import maybe_current_session
from voxa.storage.scope import Scope

_db_scope: ContextVar[Scope | None] = ContextVar("voxa_db_scope", default=None)

_SET = text("SELECT set_config('voxa.scope', :scope, true), "
            "set_config('voxa.business_id', :business, true)")


def bind_db_scope(scope: Scope | None) -> Token[Scope | None]:
    """Bind ``scope`` for the rest of the current request or task (its context)."""
    return _db_scope.set(scope)


def reset_db_scope(token: Token[Scope | None]) -> None:
    _db_scope.reset(token)


async def bind_db_scope_now(db: AsyncSession, scope: Scope) -> None:
    """``bind_db_scope``, and for ``db``'s transaction already under way too (a
    request that learns its tenant mid-transaction, e.g. an anonymous session start)."""
    bind_db_scope(scope)
    if db.in_transaction() and db.get_bind().dialect.name == "postgresql":
        await db.execute(_SET, rls_settings(scope))


@contextlib.contextmanager
def db_scope(scope: Scope | None) -> Iterator[None]:
    """Bind ``scope`` for the transactions begun inside the block."""
    token = _db_scope.set(scope)
    try:
        yield
    finally:
        _db_scope.reset(token)


def current_db_scope() -> Scope | None:
    explicit = _db_scope.get()
    if explicit is not None:
        return explicit
    ctx = maybe_current_session()
    if ctx is not None:
        return Scope.user(ctx.user_id, ctx.business_id)
    return None


def rls_settings(scope: Scope | None) -> dict[str, str]:
    """The values of ``voxa.scope`` and ``voxa.business_id`` for ``scope``."""
    if scope is None:
        return {"scope": "", "business": ""}
    if scope.kind == "system":
        return {"scope": "system", "business": ""}
    # an empty business id means the general (business-less) tenant
    return {"scope": "tenant", "business": scope.business_id or ""}


async def rls_bypassed(engine: AsyncEngine) -> bool:
    """Whether the connected PostgreSQL role skips row-level security (a
    superuser or BYPASSRLS role does, whatever the policies say)."""
    if engine.dialect.name != "postgresql":
        return False
    async with engine.connect() as conn:
        return bool((await conn.execute(text(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ))).scalar())


class TenantSession(Session):
    """The ORM session of ``Runtime.db``: each transaction carries its tenant."""


@event.listens_for(TenantSession, "after_begin")
def _set_tenant(_session: Session, _transaction: Any, connection: Any) -> None:
    if connection.dialect.name == "postgresql":
        # is_local=true: the values end with the transaction, so a pooled
        # connection never carries one request's tenant into the next
        connection.execute(_SET, rls_settings(current_db_scope()))
