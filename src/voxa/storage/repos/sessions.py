"""Session rows. Reads take a scope; lifecycle writes are conditional on the
row still being active, so a late write can never revive an ended session."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from voxa.domain import SessionStatus
from voxa.storage.models import AgentSession
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow


def _active() -> Any:
    return AgentSession.status == SessionStatus.active


def _scoped(scope: Scope) -> Any:
    return scope.where(AgentSession.business_id, AgentSession.user_id)


async def get(db: AsyncSession, session_id: str, *, scope: Scope) -> AgentSession | None:
    stmt = select(AgentSession).where(AgentSession.session_id == session_id, _scoped(scope))
    return (await db.execute(stmt)).scalar_one_or_none()


async def list_sessions(
    db: AsyncSession,
    *,
    scope: Scope,
    status: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
    before: datetime | None = None,
) -> list[AgentSession]:
    stmt = select(AgentSession).where(_scoped(scope))
    if status:
        stmt = stmt.where(AgentSession.status == status)
    if outcome:
        stmt = stmt.where(AgentSession.outcome == outcome)
    if before is not None:
        stmt = stmt.where(AgentSession.started_at < before)
    stmt = stmt.order_by(AgentSession.started_at.desc()).limit(limit)
    return list((await db.execute(stmt)).scalars())


async def touch(db: AsyncSession, session_id: str, *, scope: Scope) -> bool:
    """Record activity on an active session; False when it is not active."""
    stmt = (
        update(AgentSession)
        .where(AgentSession.session_id == session_id, _active(), _scoped(scope))
        .values(last_activity_at=utcnow())
    )
    return (await db.execute(stmt)).rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def add_messages(db: AsyncSession, session_id: str, messages: int, *, scope: Scope
                       ) -> int | None:
    """Record activity and ``messages`` new messages; the new message count, or
    None when the session is not active (nothing is changed then)."""
    stmt = (
        update(AgentSession)
        .where(AgentSession.session_id == session_id, _active(), _scoped(scope))
        .values(last_activity_at=utcnow(), message_count=AgentSession.message_count + messages)
        .returning(AgentSession.message_count)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def finish(
    db: AsyncSession, session_id: str, *, scope: Scope, status: str, reason: str
) -> bool:
    """Move an active session to ``ended``/``timeout``; False if it was not active."""
    now = utcnow()
    stmt = (
        update(AgentSession)
        .where(AgentSession.session_id == session_id, _active(), _scoped(scope))
        .values(status=status, ended_at=now, last_activity_at=now, end_reason=reason)
    )
    return (await db.execute(stmt)).rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def set_config(
    db: AsyncSession, session_id: str, config: dict[str, Any], *, scope: Scope
) -> bool:
    stmt = (
        update(AgentSession)
        .where(AgentSession.session_id == session_id, _active(), _scoped(scope))
        .values(config=config, last_activity_at=utcnow())
    )
    return (await db.execute(stmt)).rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def merge_context(
    db: AsyncSession, session_id: str, values: dict[str, Any], *, scope: Scope
) -> bool:
    """Set ``values``' keys of the session's ``context_data``, keeping the others.

    One UPDATE that merges in the database: a voice job, the cleanup job and a
    summary fold may change different keys of one session at the same moment,
    and a read-modify-write would let the last writer drop the others' keys
    (PostgreSQL's READ COMMITTED does not stop it).

    Keys are the code's own names; one with a double quote is refused on every
    backend because SQLite's JSON paths cannot name it."""
    if bad := [k for k in values if '"' in k]:
        raise ValueError(f"context keys with a double quote: {bad}")
    stmt = (
        update(AgentSession)
        .where(AgentSession.session_id == session_id, _scoped(scope))
        .values(context_data=_merged_context(db.get_bind().dialect.name, values))
        .returning(AgentSession.context_data)
        .execution_options(synchronize_session=False)
    )
    merged = (await db.execute(stmt)).scalar_one_or_none()
    if merged is None:
        return False
    # a copy of the row this session already loaded shows the merged value
    # (expiring it instead would make the next attribute access do I/O)
    for obj in db.identity_map.values():
        if isinstance(obj, AgentSession) and obj.session_id == session_id:
            set_committed_value(obj, "context_data", merged)
    return True


def _merged_context(dialect: str, values: dict[str, Any]) -> Any:
    column = AgentSession.context_data
    if dialect == "postgresql":
        return cast(cast(column, JSONB).op("||")(literal(values, JSONB)), JSON)
    # SQLite: json_set per key replaces that key only (json_patch would merge
    # nested objects and delete keys set to null, which a shallow merge does not)
    args: list[Any] = []
    for key, value in values.items():
        args += [f'$."{key}"', func.json(json.dumps(value))]
    return func.json_set(column, *args)


async def stale_ids(
    db: AsyncSession,
    *,
    scope: Scope,
    inactive_before: datetime,
    started_before: datetime,
    limit: int = 500,
) -> list[str]:
    """Active sessions idle since ``inactive_before`` or started before ``started_before``."""
    stmt = (
        select(AgentSession.session_id)
        .where(
            _scoped(scope),
            _active(),
            (AgentSession.last_activity_at < inactive_before)
            | (AgentSession.started_at < started_before),
        )
        .order_by(AgentSession.last_activity_at)
        .limit(limit)
    )
    return list((await db.execute(stmt)).scalars())


async def active_voice_sessions(db: AsyncSession, *, scope: Scope) -> list[AgentSession]:
    stmt = select(AgentSession).where(
        _scoped(scope), _active(), AgentSession.channel != "text"
    )
    return list((await db.execute(stmt)).scalars())


async def count_active(db: AsyncSession, *, scope: Scope, voice: bool = False) -> int:
    """Active sessions in ``scope`` (only calls, voice or phone, with ``voice``)."""
    stmt = select(func.count()).select_from(AgentSession).where(
        _scoped(scope), _active())
    if voice:
        stmt = stmt.where(AgentSession.channel != "text")
    return int((await db.execute(stmt)).scalar_one())


async def active_counts_by_role(db: AsyncSession, *, scope: Scope) -> dict[str, int]:
    stmt = (
        select(AgentSession.role, func.count())
        .where(_scoped(scope), _active())
        .group_by(AgentSession.role)
    )
    return {role: int(n) for role, n in (await db.execute(stmt)).all()}
