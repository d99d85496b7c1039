"""Conversation messages. Reads join the owning session so the scope applies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.scope import Scope


async def list_messages(
    db: AsyncSession,
    session_id: str,
    *,
    scope: Scope,
    limit: int = 50,
    before: int | None = None,
) -> list[AgentMessage]:
    """The newest ``limit`` messages (before id ``before``), returned oldest first."""
    stmt = (
        select(AgentMessage)
        .join(AgentSession, AgentSession.session_id == AgentMessage.session_id)
        .where(
            AgentMessage.session_id == session_id,
            scope.where(AgentSession.business_id, AgentSession.user_id),
        )
    )
    if before is not None:
        stmt = stmt.where(AgentMessage.id < before)
    stmt = stmt.order_by(AgentMessage.id.desc()).limit(limit)
    rows = list((await db.execute(stmt)).scalars())
    rows.reverse()
    return rows


async def by_client_id(
    db: AsyncSession, session_id: str, client_message_id: str, *, scope: Scope
) -> AgentMessage | None:
    stmt = (
        select(AgentMessage)
        .join(AgentSession, AgentSession.session_id == AgentMessage.session_id)
        .where(
            AgentMessage.session_id == session_id,
            AgentMessage.client_message_id == client_message_id,
            scope.where(AgentSession.business_id, AgentSession.user_id),
        )
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def get_message(db: AsyncSession, session_id: str, message_id: int, *,
                      scope: Scope) -> AgentMessage | None:
    stmt = (
        select(AgentMessage)
        .join(AgentSession, AgentSession.session_id == AgentMessage.session_id)
        .where(
            AgentMessage.session_id == session_id,
            AgentMessage.id == message_id,
            scope.where(AgentSession.business_id, AgentSession.user_id),
        )
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def set_audio(db: AsyncSession, session_id: str, message_id: int, *, url: str | None,
                    duration_ms: int | None, scope: Scope) -> bool:
    """Attach (or, with ``url=None``, detach) a message's stored audio."""
    mine = select(AgentSession.session_id).where(
        AgentSession.session_id == session_id,
        scope.where(AgentSession.business_id, AgentSession.user_id))
    result = await db.execute(
        update(AgentMessage)
        .where(AgentMessage.session_id == session_id, AgentMessage.id == message_id,
               AgentMessage.session_id.in_(mine))
        .values(audio_url=url, audio_duration_ms=duration_ms))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def sessions_with_audio_ended_before(db: AsyncSession, cutoff: datetime, *,
                                           limit: int, scope: Scope) -> list[str]:
    """Sessions that ended before ``cutoff`` and still reference audio."""
    stmt = (
        select(AgentMessage.session_id)
        .join(AgentSession, AgentSession.session_id == AgentMessage.session_id)
        .where(AgentMessage.audio_url.is_not(None), AgentSession.ended_at.is_not(None),
               AgentSession.ended_at < cutoff,
               scope.where(AgentSession.business_id, AgentSession.user_id))
        .distinct().limit(limit)
    )
    return list((await db.execute(stmt)).scalars())


async def clear_session_audio(db: AsyncSession, session_id: str, *, scope: Scope) -> int:
    mine = select(AgentSession.session_id).where(
        AgentSession.session_id == session_id,
        scope.where(AgentSession.business_id, AgentSession.user_id))
    result = await db.execute(
        update(AgentMessage)
        .where(AgentMessage.session_id == session_id, AgentMessage.session_id.in_(mine),
               AgentMessage.audio_url.is_not(None))
        .values(audio_url=None, audio_duration_ms=None))
    return int(result.rowcount)  # type: ignore[attr-defined]
